/**
 * docker-compose.yml and the Dockerfile say what the cluster suite proves, value for value: the versions
 * scripts/cluster runs (server, SQL tool, UI, PostgreSQL major), the persistence and its credentials, the
 * schema steps, the namespace and the search attributes the workflows write, the server's dynamic config,
 * and a worker image that runs the compiled worker with production dependencies only. Docker cannot run
 * on the machines this runs on, so this is how the two stay in step.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ALL_SEARCH_ATTRIBUTES } from '../src/api/search-attributes';
import { typeNames } from '../dev/temporal-server';
import { DB_PASSWORD, DB_USER, NAMESPACE, NAMESPACE_RETENTION, POSTGRES_MAJOR, PROJECT_ROOT, TEMPORAL_SERVER_VERSION, UI_SERVER_VERSION } from '../scripts/cluster/layout';
import { DYNAMIC_CONFIG_TEMPLATE } from '../scripts/cluster/temporal';

interface Service {
  image?: string;
  environment?: Record<string, string>;
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
}

const compose = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; configs: Record<string, { content: string }> };
const dockerfile = fs.readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
const services = compose.services;
const version = (v: string) => v.replace(/^v/, '');

describe('docker-compose.yml and Dockerfile match the cluster the suite proves', function () {
  it('the same images and versions, none deprecated (no auto-setup, no tctl)', function () {
    assert.equal(services.postgresql.image, `postgres:${POSTGRES_MAJOR}`);
    assert.equal(services.temporal.image, `temporalio/server:${version(TEMPORAL_SERVER_VERSION)}`);
    assert.equal(services['temporal-schema'].image, `temporalio/admin-tools:${version(TEMPORAL_SERVER_VERSION)}`);
    assert.equal(services['temporal-setup'].image, `temporalio/admin-tools:${version(TEMPORAL_SERVER_VERSION)}`);
    assert.equal(services['temporal-ui'].image, `temporalio/ui:${version(UI_SERVER_VERSION)}`);
    const text = fs.readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8');
    assert.doesNotMatch(text, /auto-setup|tctl/);
  });

  it('PostgreSQL persistence and SQL visibility with the same databases and credentials', function () {
    assert.deepEqual(services.postgresql.environment, { POSTGRES_USER: DB_USER, POSTGRES_PASSWORD: DB_PASSWORD });
    const t = services.temporal.environment!;
    assert.deepEqual([t.DB, t.POSTGRES_USER, t.POSTGRES_PWD, t.DBNAME, t.VISIBILITY_DBNAME, t.ENABLE_ES], ['postgres12', DB_USER, DB_PASSWORD, 'temporal', 'temporal_visibility', undefined]);
    const s = services['temporal-schema'].environment!;
    assert.deepEqual([s.SQL_PLUGIN, s.SQL_USER, s.SQL_PASSWORD], ['postgres12', DB_USER, DB_PASSWORD]);
    const steps = services['temporal-schema'].command!.join('\n');
    for (const step of ['create-database', 'setup-schema -v 0.0', 'update-schema -d "/etc/temporal/schema/postgresql/v12/$$dir/versioned"', 'temporal:temporal temporal_visibility:visibility']) {
      assert.ok(steps.includes(step), `schema step ${step}`);
    }
    assert.equal(services.temporal.depends_on?.['temporal-schema']?.condition, 'service_completed_successfully');
  });

  it('the namespace and every search attribute the workflows write, with their types', function () {
    const setup = services['temporal-setup'].command!.join('\n');
    assert.match(setup, new RegExp(`namespace create --namespace ${NAMESPACE} --retention ${NAMESPACE_RETENTION}`));
    const listed = /for sa in ([^;]+);/.exec(setup)![1].trim().split(/\s+/);
    assert.deepEqual(listed, ALL_SEARCH_ATTRIBUTES.map((sa) => `${sa.name}:${typeNames(sa.type).cli}`));
    assert.equal(services.worker.depends_on?.['temporal-setup']?.condition, 'service_completed_successfully');
  });

  it("the server's dynamic config is the module's development-sql.yaml", function () {
    if (!fs.existsSync(DYNAMIC_CONFIG_TEMPLATE)) this.skip();
    assert.deepEqual(YAML.parse(compose.configs['temporal-dynamic-config'].content), YAML.parse(fs.readFileSync(DYNAMIC_CONFIG_TEMPLATE, 'utf8')));
  });

  it('the worker image: npm run build, production dependencies only, node dist/worker.js, its endpoints', function () {
    assert.match(dockerfile, /RUN npm run build/);
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.match(dockerfile, /COPY --from=build \/app\/dist \.\/dist/);
    assert.match(dockerfile, /CMD \["node", "dist\/worker\.js"\]/);
    assert.doesNotMatch(dockerfile.split(/^FROM /m).pop()!, /ts-node|COPY src/);
    const w = services.worker.environment!;
    assert.match(dockerfile, new RegExp(`EXPOSE ${w.ORCHESTRATOR_METRICS_PORT} ${w.ORCHESTRATOR_HEALTH_PORT}`));
    assert.match(dockerfile, new RegExp(`127\\.0\\.0\\.1:${w.ORCHESTRATOR_HEALTH_PORT}/readyz`));
  });
});
