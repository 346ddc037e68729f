import React, { useEffect, useState } from 'react';
import { Box, H2, H5, Text } from '@adminjs/design-system';
import { ApiClient } from 'adminjs';

const api = new ApiClient();

const LABELS = [
  ['users', 'Active users'],
  ['deletedUsers', 'Deleted users'],
  ['admins', 'Admins'],
  ['teams', 'Teams'],
  ['subscribedTeams', 'Teams with a live subscription'],
  ['pendingInvitations', 'Pending invitations'],
  ['activityLast24h', 'Activity in the last 24 h'],
];

/** Back-office home: key counts, read from the dashboard handler (admin.module.ts). */
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
    </Box>
  );
};

export default Dashboard;
