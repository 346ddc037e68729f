import { describe, expect, it } from '@jest/globals';
import { ActivityType } from '../../database/schema.js';
import { ACTIVITY_RECORDED_BY } from './audit-policy.js';
import { Audit } from './audit.decorator.js';

describe('audit policy', () => {
  it('assigns every ActivityType exactly one way of recording', () => {
    expect(Object.keys(ACTIVITY_RECORDED_BY).sort()).toEqual(Object.values(ActivityType).sort());
    for (const way of Object.values(ACTIVITY_RECORDED_BY)) {
      expect(['interceptor', 'service']).toContain(way);
    }
  });

  it('@Audit accepts interceptor types and refuses service types', () => {
    for (const [type, way] of Object.entries(ACTIVITY_RECORDED_BY) as [ActivityType, string][]) {
      if (way === 'interceptor') expect(() => Audit(type)).not.toThrow();
      else expect(() => Audit(type)).toThrow(/written by its service/);
    }
  });
});
