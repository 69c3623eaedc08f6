import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isReleaseError } from '@nixrel/core';
import { describe, expect, it } from 'vitest';
import { normaliseDerivations, normalisePathInfo, parseNixVersion } from '../src/index.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8'));

const A = '/nix/store/d4zhqgfkpb24367fksarcckcaaln7v2i-a-1.0';
const B = '/nix/store/iix97wlai3sh0y40238x3kar0ikj8345-b-2.0';
const B_DRV = '/nix/store/2lags8dr5lhfccn1xxij48qykp979pf0-b-2.0.drv';
const A_DRV = '/nix/store/xsa3nacci567vjyq0m995y9iqpz82v0j-a-1.0.drv';

describe('normalisePathInfo', () => {
  const expected = [
    { path: A, narHash: 'sha256-knb9U7Sdy/YWj4gjrvFIevLuTiMEt+5kEtunmYK5CoY=', narSize: 120, references: [], deriver: A_DRV, valid: true },
    { path: B, narHash: 'sha256-idGWfe0NmkuAL6RsXBWduwBB24e+McLPzKExCmYroEk=', narSize: 336, references: [A], deriver: B_DRV, valid: true },
  ];

  it('reads the Nix 2.8 array shape', () => {
    expect(normalisePathInfo(fixture('path-info-2.8.json'))).toEqual(expected);
  });

  it('reads the newer object-keyed shape to the same result', () => {
    expect(normalisePathInfo(fixture('path-info-2.19.json'))).toEqual(expected);
  });

  it('reads store-dir-less paths and structured hashes', () => {
    const json = { version: 2, info: { 'iix97wlai3sh0y40238x3kar0ikj8345-b-2.0': { narHash: { algorithm: 'sha256', format: 'base64', hash: 'idGWfe0NmkuAL6RsXBWduwBB24e+McLPzKExCmYroEk=' }, narSize: 336, references: ['d4zhqgfkpb24367fksarcckcaaln7v2i-a-1.0'] } } };
    expect(normalisePathInfo(json)).toEqual([{ path: B, narHash: 'sha256-idGWfe0NmkuAL6RsXBWduwBB24e+McLPzKExCmYroEk=', narSize: 336, references: [A], valid: true }]);
  });

  it.each(['path-info-2.8-invalid.json', 'path-info-2.19-invalid.json'])('rejects an invalid path in %s, naming it', (name) => {
    let err: unknown;
    try {
      normalisePathInfo(fixture(name));
    } catch (e) {
      err = e;
    }
    expect(isReleaseError(err, 'NOT_FOUND')).toBe(true);
    expect((err as Error).message).toContain('/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x');
    expect((err as Error).message).toContain('not valid');
  });

  it('rejects incomplete entries', () => {
    expect(() => normalisePathInfo([{ path: A, narSize: 1, references: [] }])).toThrow(/incomplete data for \/nix\/store\/d4zh/);
  });
});

describe('normaliseDerivations', () => {
  it.each(['show-derivation-2.8.json', 'derivation-show-2.24.json', 'derivation-show-v4.json'])('reads %s to one shape', (name) => {
    const d = normaliseDerivations(fixture(name));
    expect(Object.keys(d)).toEqual([B_DRV]);
    const drv = d[B_DRV]!;
    expect(drv.outputs).toEqual({ out: { path: B } });
    expect(drv.inputDrvs).toEqual({ [A_DRV]: ['out'] });
    expect(drv.inputSrcs).toEqual([]);
    expect(drv.system).toBe('x86_64-linux');
    expect(drv.builder).toBe('/bin/sh');
    expect(drv.env.name).toBe('b-2.0');
  });
});

describe('parseNixVersion', () => {
  it('reads nix --version output', () => {
    expect(parseNixVersion('nix (Nix) 2.8.0\n')).toEqual({ version: '2.8.0', major: 2, minor: 8, patch: 0, raw: 'nix (Nix) 2.8.0' });
    expect(parseNixVersion('nix (Determinate Nix 3.6.2) 2.29.0')).toMatchObject({ major: 2, minor: 29 });
    expect(parseNixVersion('nix (Nix) 2.24.10')).toMatchObject({ major: 2, minor: 24, patch: 10 });
  });
  it('fails on text without a version', () => {
    expect(() => parseNixVersion('what')).toThrow(/cannot read a version/);
  });
});
