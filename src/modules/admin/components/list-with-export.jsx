import React from 'react';
import { useLocation } from 'react-router';
import { Box, Button, Icon } from '@adminjs/design-system';

// Must match EXPORT_ACTION in admin-export.ts.
const EXPORT_ACTION = 'exportCsv';

/**
 * AdminJS's list with an "Export CSV" link above it, on resources whose `exportCsv` action the
 * signed-in user may run (AdminJS lists only accessible actions in resourceActions). The link
 * carries the list's current `filters.*` query parameters, so the file holds what the
 * filtered list shows (all pages); the server streams it (admin-export.ts).
 */
const ListWithExport = (props) => {
  const { OriginalComponent, resource } = props;
  const location = useLocation();
  const canExport = resource.resourceActions.some((action) => action.name === EXPORT_ACTION);
  let href;
  if (canExport) {
    const filters = new URLSearchParams();
    for (const [key, value] of new URLSearchParams(location.search)) {
      if (key.startsWith('filters.')) filters.append(key, value);
    }
    const rootPath = window.REDUX_STATE?.paths?.rootPath ?? '/admin';
    const query = filters.toString();
    href = `${rootPath}/api/resources/${encodeURIComponent(resource.id)}/actions/${EXPORT_ACTION}${
      query ? `?${query}` : ''
    }`;
  }
  return (
    <>
      {canExport ? (
        <Box flex justifyContent="flex-end" mb="lg">
          <Button as="a" href={href} download variant="outlined" size="sm" data-testid="export-csv">
            <Icon icon="Download" />
            Export CSV
          </Button>
        </Box>
      ) : null}
      <OriginalComponent {...props} />
    </>
  );
};

export default ListWithExport;
