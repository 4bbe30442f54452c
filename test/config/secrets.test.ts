// Credentials written inside URLs never reach an output: a configuration with a secret in every place one can sit
// (secret-named keys, the user-info of every URL-valued key, a secret query parameter) is printed (`config check
// --show`), fails at startup (store unreachable, store URL not supported), and fails to connect with debug logs on
// (Redfish BMC, Keystone/Nova, libvirt). Every output is scanned for every secret.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/core/config/load.ts';
import { createLogger } from '../../src/core/log.ts';
import { createNovaDriver } from '../../src/drivers/compute/nova/index.ts';
import { ResilientLibvirt } from '../../src/drivers/libvirt/resilient.ts';
import { libvirtAvailable } from '../../src/drivers/libvirt/index.ts';
import { maskUrlCredentials } from '../../src/core/mask.ts';
import { requireComponent } from '../support/components.ts';
import { runCli } from '../support/cli.ts';

// Each secret is unique, so a leak names the place it came from. Port 1 on loopback refuses every connection.
const S = {
  dbUrl: 'S3cr3t-db-url',
  apiKeystonePassword: 'S3cr3t-api-ks-password',
  apiKeystoneUrl: 'S3cr3t-api-ks-url',
  apiWwwAuth: 'S3cr3t-api-www-auth',
  osPassword: 'S3cr3t-os-password',
  osUrl: 'S3cr3t-os-url',
  osComputeUrl: 'S3cr3t-os-compute-url',
  osAppSecret: 'S3cr3t-os-app-secret',
  ctlEndpoint: 'S3cr3t-ctl-endpoint',
  ctlToken: 'S3cr3t-ctl-token',
  ctlPassword: 'S3cr3t-ctl-password',
  ctlAuthUrl: 'S3cr3t-ctl-auth-url',
  libvirtUri: 'S3cr3t-libvirt-uri',
  libvirtQuery: 'S3cr3t-libvirt-query',
  libvirtComputeUri: 'S3cr3t-libvirt-compute-uri',
  redfishUrl: 'S3cr3t-redfish-url',
  redfishPassword: 'S3cr3t-redfish-password',
  ipmiPassword: 'S3cr3t-ipmi-password',
  pgUrl: 'S3cr3t-pg-url',
};

const everything = {
  database: { url: `mysql://masakari:${S.dbUrl}@127.0.0.1:1/masakari` },
  api: {
    keystone: {
      auth_url: `http://svc:${S.apiKeystoneUrl}@127.0.0.1:1/v3`,
      password: S.apiKeystonePassword,
      www_authenticate_uri: `http://svc:${S.apiWwwAuth}@127.0.0.1:1`,
    },
  },
  openstack: {
    auth_url: `http://svc:${S.osUrl}@127.0.0.1:1/v3`,
    username: 'masakari',
    password: S.osPassword,
    project_name: 'service',
    compute_endpoint_override: `http://svc:${S.osComputeUrl}@127.0.0.1:1/v2.1`,
    application_credential_secret: S.osAppSecret,
    retries: 0,
  },
  compute: {
    controller: {
      endpoint: `http://agent:${S.ctlEndpoint}@127.0.0.1:1/v1`,
      auth: { token: S.ctlToken, password: S.ctlPassword, auth_url: `http://agent:${S.ctlAuthUrl}@127.0.0.1:1/v3` },
    },
  },
  libvirt: { connection_uri: `qemu+tcp://virt:${S.libvirtUri}@127.0.0.1:1/system?password=${S.libvirtQuery}` },
  libvirt_compute: { hosts: { peer: { uri: `qemu+tcp://virt:${S.libvirtComputeUri}@127.0.0.1:1/system` } } },
  fencing: {
    defaults: { timeout_seconds: 2, retries: 0, confirm_timeout_seconds: 0 },
    hosts: {
      h1: { kind: 'redfish', url: `https://root:${S.redfishUrl}@127.0.0.1:1`, username: 'root', password: S.redfishPassword },
      h2: { kind: 'ipmi', address: '127.0.0.1', username: 'admin', password: S.ipmiPassword },
    },
  },
};

function assertNoSecret(where: string, text: string) {
  for (const [place, secret] of Object.entries(S)) {
    assert.ok(!text.includes(secret), `${where} shows the secret of ${place}:\n${text}`);
  }
}

const file = () => {
  const path = join(mkdtempSync(join(tmpdir(), 'masakari-secrets-')), 'masakari.yaml');
  writeFileSync(path, stringify(everything));
  return path;
};

test('the masking helper: the password of a URL and secret query parameters, the user name kept', () => {
  assert.equal(maskUrlCredentials('mysql://masakari:pw@db/masakari'), 'mysql://masakari:***@db/masakari');
  assert.equal(maskUrlCredentials('at https://root:p@ss/w@bmc:443/x.'), 'at https://root:***@bmc:443/x.');
  assert.equal(maskUrlCredentials('qemu+ssh://root@peer/system'), 'qemu+ssh://root@peer/system');
  assert.equal(maskUrlCredentials('qemu+tcp://h/system?password=pw&x=1'), 'qemu+tcp://h/system?password=***&x=1');
  assert.equal(maskUrlCredentials('http://127.0.0.1:5000/v3'), 'http://127.0.0.1:5000/v3');
});

test('config check --show prints no secret, and still shows which URL', async () => {
  const r = await runCli(['config', 'check', file(), '--show']);
  assert.equal(r.code, 0, r.stderr);
  assertNoSecret('config check --show', r.stdout + r.stderr);
  assert.match(r.stdout, /mysql:\/\/masakari:\*\*\*@127\.0\.0\.1:1\/masakari/);
  assert.match(r.stdout, /https:\/\/root:\*\*\*@127\.0\.0\.1:1/);
});

test('startup errors: unreachable MySQL, unsupported database URL', async () => {
  const f = file();
  const mysql = await runCli(['db', 'sync', '--config', f]);
  assert.notEqual(mysql.code, 0);
  assert.match(mysql.stderr, /MySQL/);
  assertNoSecret('db sync (MySQL unreachable)', mysql.stdout + mysql.stderr);
  const role = await runCli(['--role=controller', '--config', f], { env: { MASAKARI_LOG__LEVEL: 'debug' } });
  assert.notEqual(role.code, 0);
  assertNoSecret('--role=controller (MySQL unreachable)', role.stdout + role.stderr);
  const pg = await runCli(['db', 'sync', '--config', f, '--database', `postgresql://masakari:${S.pgUrl}@db/masakari`]);
  assert.notEqual(pg.code, 0);
  assert.match(pg.stderr, /not supported/);
  assertNoSecret('db sync (unsupported URL)', pg.stdout + pg.stderr);
});

test('fence status against an unreachable Redfish BMC and IPMI BMC, debug logs on', async () => {
  const f = file();
  for (const host of ['h1', 'h2']) {
    const r = await runCli(['fence', 'status', host, '--config', f], { env: { MASAKARI_LOG__LEVEL: 'trace' } });
    assert.notEqual(r.code, 0);
    assertNoSecret(`fence status ${host}`, r.stdout + r.stderr);
  }
});

/** createLogger's own output, captured. */
function captured() {
  let text = '';
  return { log: createLogger('trace', 'json', { write: (s: string) => void (text += s) }), text: () => text };
}

test('Keystone/Nova unreachable: the error and the debug log lines', async () => {
  const config = loadConfig({ overrides: everything });
  const out = captured();
  const { driver } = createNovaDriver(config.openstack, { logger: out.log.child({ component: 'nova' }) });
  const err = await driver.hostExists('cmp1').then(
    () => assert.fail('Keystone on port 1 answered'),
    (e: unknown) => e as Error,
  );
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(out.text().includes('127.0.0.1:1'), `the failed call was logged:\n${out.text()}`);
  assertNoSecret('Nova driver error and logs', `${err.message}\n${err.stack}\n${out.text()}`);
});

test('libvirt unreachable: the connection retry log lines', async (t) => {
  if (!requireComponent(t, 'libvirt client library (libvirt0)', libvirtAvailable())) return;
  const config = loadConfig({ overrides: everything });
  const out = captured();
  const conn = new ResilientLibvirt({ uri: config.libvirt.connection_uri, keepalive: null, reconnectDelayMs: 60_000, log: out.log });
  await conn.start().catch(() => {});
  await conn.stop();
  await new Promise((r) => setTimeout(r, 50));
  assert.match(out.text(), /cannot connect to libvirt/);
  assertNoSecret('libvirt logs', out.text());
});
