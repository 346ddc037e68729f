import { describe, expect, it } from '@jest/globals';
import { isSupportRead } from './admin-staff-access.js';

describe('isSupportRead (what a support session may request under /admin)', () => {
  it('allows the pages, the dashboard and the list/search/show reads, with GET or HEAD', () => {
    for (const path of [
      '',
      '/',
      '/api/dashboard',
      '/resources/users',
      '/resources/users/actions/list',
      '/resources/users/records/7/show',
      '/api/resources/users/actions/list',
      '/api/resources/users/actions/search',
      '/api/resources/users/actions/search/bob%40example',
      '/api/resources/users/records/7/show',
      '/api/resources/users/search/bob',
      '/api/resources/sessions/records/5f0c-uuid/show',
      '/api/resources/users/actions/exportCsv',
    ]) {
      expect({ path, get: isSupportRead('GET', path) }).toEqual({ path, get: true });
      expect(isSupportRead('HEAD', path)).toBe(true);
    }
  });

  it('refuses every other action name, page and path, known or not', () => {
    for (const path of [
      '/api/resources/users/actions/new',
      '/resources/users/actions/new',
      '/api/resources/users/records/7/edit',
      '/resources/users/records/7/edit',
      '/api/resources/users/records/7/delete',
      '/api/resources/users/records/7/setPassword',
      '/api/resources/users/records/7/disableMfa',
      '/api/resources/users/bulk/bulkDelete',
      '/resources/users/bulk/bulkDelete',
      '/api/resources/users/records/7/show/extra',
      '/api/resources/users/records/7/SHOW',
      '/api/resources/users/actions/export',
      '/api/resources/users/records/7/exportCsv',
      '/api/pages/reports',
      '/pages/reports',
      '/refresh',
      '/api/dashboard/x',
    ]) {
      expect({ path, get: isSupportRead('GET', path) }).toEqual({ path, get: false });
    }
  });

  it('refuses every method but GET and HEAD, even on a read path', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      expect(isSupportRead(method, '/api/resources/users/actions/list')).toBe(false);
      expect(isSupportRead(method, '/api/dashboard')).toBe(false);
    }
  });
});
