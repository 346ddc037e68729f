import React, { useEffect, useRef, useState } from 'react';
import { Box, H2, H4, H5, Text } from '@adminjs/design-system';
import { ApiClient } from 'adminjs';
import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';

// Only what the charts below use, so the bundle carries no other chart type. Chart.js draws
// on a canvas with the system font stack: nothing is fetched at run time.
Chart.register(
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  DoughnutController,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
);

const api = new ApiClient();

const LABELS = [
  ['users', 'Active users'],
  ['deletedUsers', 'Deleted users'],
  ['admins', 'Admins'],
  ['teams', 'Teams'],
  ['subscribedTeams', 'Teams with a live subscription'],
  ['payingSeats', 'Paying seats (per-seat quantity billed, active and past-due subscriptions)'],
  ['pendingInvitations', 'Pending invitations'],
  ['activityLast24h', 'Activity in the last 24 h'],
];

const COLORS = ['#4268F6', '#F0616F', '#70C9B0', '#F6B042', '#9B6BDF', '#4BB0E6', '#8A8F99'];

const sum = (datasets) =>
  datasets.reduce((total, set) => total + set.data.reduce((a, b) => a + b, 0), 0);

/**
 * One Chart.js chart. `data-total` (the sum of every plotted value) and `data-ready` let the
 * browser test check that the chart was drawn with real figures.
 */
const ChartCanvas = ({ name, type, labels, datasets, stacked = false }) => {
  const ref = useRef(null);
  useEffect(() => {
    const chart = new Chart(ref.current, {
      type,
      data: { labels, datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: datasets.length > 1 || type === 'doughnut' } },
        scales:
          type === 'doughnut'
            ? {}
            : {
                x: { stacked },
                y: { stacked, beginAtZero: true, ticks: { precision: 0 } },
              },
      },
    });
    ref.current.dataset.ready = 'true';
    return () => chart.destroy();
  }, [type, labels, datasets, stacked]);
  return (
    <Box height={260} position="relative">
      <canvas
        ref={ref}
        role="img"
        aria-label={name}
        data-testid={`chart-${name}`}
        data-total={sum(datasets)}
        data-points={labels.length}
      />
    </Box>
  );
};

const Panel = ({ title, note, children, wide = false }) => (
  <Box variant="white" mr="lg" mb="lg" width={wide ? [1, 1, 0.97] : [1, 1, 0.47]}>
    <H4>{title}</H4>
    {note ? (
      <Text variant="sm" mb="default">
        {note}
      </Text>
    ) : null}
    {children}
  </Box>
);

const segmentLabel = (key) => key ?? 'none';

/** Teams counted by one column's values (`{ key, count }` segments; no value is "none"). */
const TeamsDoughnut = ({ name, segments }) => (
  <ChartCanvas
    name={name}
    type="doughnut"
    labels={segments.map((s) => segmentLabel(s.key))}
    datasets={[{ label: 'Teams', data: segments.map((s) => s.count), backgroundColor: COLORS }]}
  />
);

const Charts = ({ charts }) => {
  const days = charts.daily.map((d) => d.day.slice(5));
  const series = (field, label, color, type) => ({
    label,
    data: charts.daily.map((d) => d[field]),
    backgroundColor: color,
    borderColor: color,
    ...(type === 'line' ? { tension: 0.2, pointRadius: 2 } : {}),
  });
  const queues = [...new Set(charts.jobs.map((j) => j.queue))].sort();
  const states = [...new Set(charts.jobs.map((j) => j.state))].sort();
  const jobSets = states.map((state, i) => ({
    label: state,
    data: queues.map(
      (queue) => charts.jobs.find((j) => j.queue === queue && j.state === state)?.count ?? 0,
    ),
    backgroundColor: COLORS[i % COLORS.length],
  }));
  return (
    <Box flex flexDirection="row" flexWrap="wrap" data-testid="dashboard-charts">
      <Panel
        title="Sign-ups and active teams, last 30 days"
        note="Active team: a team with at least one activity-log entry that day (UTC)."
        wide
      >
        <ChartCanvas
          name="signups-active-teams"
          type="line"
          labels={days}
          datasets={[
            series('signUps', 'Sign-ups', COLORS[0], 'line'),
            series('activeTeams', 'Active teams', COLORS[2], 'line'),
          ]}
        />
      </Panel>
      <Panel title="Teams by plan">
        <TeamsDoughnut name="teams-by-plan" segments={charts.teamsByPlan} />
      </Panel>
      <Panel title="Teams by subscription status">
        <TeamsDoughnut name="teams-by-status" segments={charts.teamsBySubscriptionStatus} />
      </Panel>
      <Panel
        title="Invitations sent and accepted, last 30 days"
        note="By the day an invitation was sent; accepted = those of that day accepted since."
        wide
      >
        <ChartCanvas
          name="invitations"
          type="bar"
          labels={days}
          datasets={[
            series('invitationsSent', 'Sent', COLORS[0]),
            series('invitationsAccepted', 'Accepted', COLORS[2]),
          ]}
        />
      </Panel>
      <Panel title="Failed webhook deliveries, last 30 days" note="By the day of the last attempt.">
        <ChartCanvas
          name="failed-deliveries"
          type="bar"
          labels={days}
          datasets={[series('failedDeliveries', 'Failed deliveries', COLORS[1])]}
        />
      </Panel>
      <Panel title="Jobs by queue and state" note="created / retry = waiting to run.">
        <ChartCanvas name="jobs" type="bar" labels={queues} datasets={jobSets} stacked />
      </Panel>
    </Box>
  );
};

/** Back-office home: key counts and charts, from the dashboard handler (admin.module.ts). */
const Dashboard = () => {
  const [stats, setStats] = useState(null);
  useEffect(() => {
    api.getDashboard().then((response) => setStats(response.data));
  }, []);
  return (
    <Box variant="grey">
      <Box variant="white" mb="xl">
        <H2>Back office</H2>
        <Text>Users, teams, memberships, invitations and the activity log of nest-saas.</Text>
      </Box>
      <Box flex flexDirection="row" flexWrap="wrap">
        {LABELS.map(([key, label]) => (
          <Box
            key={key}
            variant="white"
            mr="lg"
            mb="lg"
            width={[1, 1 / 2, 1 / 4]}
            data-testid={`stat-${key}`}
          >
            <H5>{label}</H5>
            <H2>{stats ? stats[key] : '…'}</H2>
          </Box>
        ))}
      </Box>
      {stats?.charts ? <Charts charts={stats.charts} /> : null}
    </Box>
  );
};

export default Dashboard;
