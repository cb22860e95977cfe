// `pnpm gen:types`: writes dashboard/types.js, the dashboard's JSDoc `Key` and `Event`, from core's
// `keySchema` and `keyEventSchema`.
import { writeFileSync } from 'node:fs';
import { renderDashboardTypes } from '../src/dashboard-types.js';

writeFileSync(new URL('../dashboard/types.js', import.meta.url), renderDashboardTypes());
