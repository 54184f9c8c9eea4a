import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  isForbiddenAddress,
  isInside,
  lexicalPath,
  type PathRules,
  refusalReason,
  resolveWorkspacePath,
  sensitivePaths,
} from './safety';

let base: string;
let home: string;
let root: string;
let rules: PathRules;

beforeEach(() => {
  base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'canopy-safety-')));
  home = path.join(base, 'home');
  root = path.join(home, 'canopy-workspace');
  mkdirSync(root, { recursive: true });
  rules = { workspaceRoot: root, userHome: home, nodeHome: path.join(home, '.canopy-node') };
});

afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

const refused = (p: Promise<unknown>) => expect(p).rejects.toMatchObject({ code: 'PATH_REFUSED' });

describe('workspace paths', () => {
  it('resolves a relative path against the workspace root', async () => {
    writeFileSync(path.join(root, 'a.txt'), 'a');
    expect(await resolveWorkspacePath('a.txt', rules)).toBe(path.join(root, 'a.txt'));
    expect(await resolveWorkspacePath('./sub/../a.txt', rules)).toBe(path.join(root, 'a.txt'));
  });

  it('accepts a path that does not exist yet, however deep', async () => {
    expect(await resolveWorkspacePath('new/deeper/file.txt', rules)).toBe(
      path.join(root, 'new/deeper/file.txt'),
    );
  });

  it('accepts absolute and ~ paths inside the root, and the root itself', async () => {
    expect(await resolveWorkspacePath(path.join(root, 'x'), rules)).toBe(path.join(root, 'x'));
    expect(await resolveWorkspacePath('~/canopy-workspace/x', rules)).toBe(path.join(root, 'x'));
    expect(await resolveWorkspacePath('.', rules)).toBe(root);
  });

  it('works when the workspace root does not exist yet', async () => {
    const fresh = { ...rules, workspaceRoot: path.join(home, 'not-yet') };
    expect(await resolveWorkspacePath('f.txt', fresh)).toBe(path.join(home, 'not-yet', 'f.txt'));
  });

  it('follows a workspace root that is itself a symlink', async () => {
    const real = path.join(base, 'data');
    mkdirSync(real);
    writeFileSync(path.join(real, 'f.txt'), 'f');
    symlinkSync(real, path.join(home, 'ws-link'));
    const linked = { ...rules, workspaceRoot: path.join(home, 'ws-link') };
    expect(await resolveWorkspacePath('f.txt', linked)).toBe(path.join(real, 'f.txt'));
    expect(await resolveWorkspacePath(path.join(real, 'f.txt'), linked)).toBe(path.join(real, 'f.txt'));
  });

  describe('refuses escapes', () => {
    it.each(['../outside.txt', '../../etc/passwd', 'sub/../../outside', '/etc/passwd', '~/notes.txt', '~'])(
      '%s',
      async (p) => {
        await refused(resolveWorkspacePath(p, rules));
      },
    );

    it('refuses a sibling whose name starts like the root', async () => {
      mkdirSync(`${root}-evil`);
      await refused(resolveWorkspacePath(`${root}-evil/x`, rules));
    });

    it('refuses a symlinked folder that leads out', async () => {
      const outside = path.join(base, 'outside');
      mkdirSync(outside);
      writeFileSync(path.join(outside, 'secret.txt'), 's');
      symlinkSync(outside, path.join(root, 'out'));
      await refused(resolveWorkspacePath('out/secret.txt', rules));
      await refused(resolveWorkspacePath('out/new-file.txt', rules));
      await refused(resolveWorkspacePath('out', rules));
    });

    it('refuses a symlinked file that leads out', async () => {
      const secret = path.join(base, 'secret.txt');
      writeFileSync(secret, 's');
      symlinkSync(secret, path.join(root, 'innocent.txt'));
      await refused(resolveWorkspacePath('innocent.txt', rules));
    });

    it('refuses a broken symlink, which a write would follow anywhere', async () => {
      symlinkSync(path.join(base, 'nowhere', 'x'), path.join(root, 'dangling'));
      await refused(resolveWorkspacePath('dangling', rules));
      await refused(resolveWorkspacePath('dangling/child', rules));
    });

    it('accepts a symlink that stays inside', async () => {
      mkdirSync(path.join(root, 'real'));
      symlinkSync(path.join(root, 'real'), path.join(root, 'alias'));
      expect(await resolveWorkspacePath('alias/f', rules)).toBe(path.join(root, 'real', 'f'));
    });

    it('refuses a path through a file', async () => {
      writeFileSync(path.join(root, 'file'), 'x');
      await refused(resolveWorkspacePath('file/child', rules));
    });

    it('refuses empty paths and NUL characters', async () => {
      await refused(resolveWorkspacePath('', rules));
      await refused(resolveWorkspacePath('a\0b', rules));
    });
  });

  describe('protected places, even inside the root', () => {
    // The owner made the whole home the workspace: the credential stores still stay out of reach.
    const wholeHome = () => ({ ...rules, workspaceRoot: home });

    it.each([
      '.ssh/id_ed25519',
      '.ssh',
      '.gnupg/private-keys-v1.d/x.key',
      '.aws/credentials',
      '.config/gcloud/credentials.db',
      '.kube/config',
      '.docker/config.json',
      '.netrc',
      '.git-credentials',
      'Library/Keychains/login.keychain-db',
      '.local/share/keyrings/login.keyring',
      '.canopy-node/config.json',
      '.canopy-node',
      '~/.ssh/authorized_keys',
      'docs/../.ssh/id_rsa',
    ])('%s', async (p) => {
      await refused(resolveWorkspacePath(p, wholeHome()));
    });

    it('still allows names that merely start like a protected one', async () => {
      expect(await resolveWorkspacePath('.sshx/notes', wholeHome())).toBe(path.join(home, '.sshx/notes'));
      expect(await resolveWorkspacePath('.config/other', wholeHome())).toBe(path.join(home, '.config/other'));
    });

    it('protects the node home wherever it is', async () => {
      const nodeHome = path.join(root, 'node-state');
      await refused(resolveWorkspacePath('node-state/token', { ...rules, nodeHome }));
    });

    it('refuses a secret reached through a symlink inside the workspace', async () => {
      mkdirSync(path.join(home, '.ssh'));
      writeFileSync(path.join(home, '.ssh', 'id_rsa'), 'key');
      symlinkSync(path.join(home, '.ssh'), path.join(home, 'ssh-link'));
      await refused(resolveWorkspacePath('ssh-link/id_rsa', wholeHome()));
    });

    it('refuses a protected folder that is a symlink into the workspace', async () => {
      mkdirSync(path.join(root, 'dotfiles', 'ssh'), { recursive: true });
      writeFileSync(path.join(root, 'dotfiles', 'ssh', 'id_rsa'), 'key');
      symlinkSync(path.join(root, 'dotfiles', 'ssh'), path.join(home, '.ssh'));
      await refused(resolveWorkspacePath('dotfiles/ssh/id_rsa', rules));
      expect(await resolveWorkspacePath('dotfiles/other', rules)).toBe(path.join(root, 'dotfiles/other'));
    });

    it('ignores case where the file system does', async () => {
      await refused(resolveWorkspacePath('.SSH/id_rsa', { ...wholeHome(), caseInsensitive: true }));
      await refused(resolveWorkspacePath('.Aws/Credentials', { ...wholeHome(), caseInsensitive: true }));
    });

    it('refuses system secrets when the workspace is the whole disk', async () => {
      const everything = { ...rules, workspaceRoot: '/' };
      for (const p of ['/etc/shadow', '/etc/gshadow', '/etc/sudoers', '/etc/sudoers.d/x', '/etc/ssh/key']) {
        await refused(resolveWorkspacePath(p, everything));
      }
    });
  });
});

describe('the pure path rule', () => {
  it('knows inside from outside', () => {
    expect(isInside('/a/b', '/a')).toBe(true);
    expect(isInside('/a', '/a')).toBe(true);
    expect(isInside('/a/..b', '/a')).toBe(true);
    expect(isInside('/ab', '/a')).toBe(false);
    expect(isInside('/', '/a')).toBe(false);
    expect(isInside('/A/b', '/a')).toBe(false);
    expect(isInside('/A/b', '/a', true)).toBe(true);
  });

  it('gives a reason for a path outside the root or in a protected place', () => {
    const denied = sensitivePaths('/home/u', '/home/u/.canopy-node');
    expect(refusalReason('/w/x', ['/w/x'], '/w', denied)).toBeNull();
    expect(refusalReason('/v/x', ['/w/x', '/v/x'], '/w', denied)).toMatch(/outside the workspace/);
    expect(refusalReason('/home/u/.aws/c', ['/home/u/.aws/c'], '/home/u', denied)).toMatch(/protected/);
    expect(refusalReason('/etc/shadow', ['/etc/shadow'], '/', denied)).toMatch(/protected/);
    expect(refusalReason('/etc/passwd', ['/etc/passwd'], '/', denied)).toBeNull();
  });

  it('expands ~ and resolves relative paths lexically', () => {
    const r = { workspaceRoot: '/w', userHome: '/h' };
    expect(lexicalPath('~', r)).toBe('/h');
    expect(lexicalPath('~/x', r)).toBe('/h/x');
    expect(lexicalPath('~x', r)).toBe('/w/~x');
    expect(lexicalPath('a/../../b', r)).toBe('/b');
  });
});

describe('forbidden network addresses', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '0.1.2.3',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    'fc00::1',
    'fd12:3456:789a::1',
    'fe80::1',
    'fe80::1%eth0',
    'febf::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:192.168.0.1',
    '::ffff:169.254.169.254',
    '::127.0.0.1',
    '64:ff9b::7f00:1',
    '64:ff9b::10.1.2.3',
    '2002:7f00:1::',
    '2002:c0a8:101::1',
    'localhost',
    'example.com',
    '',
    '127.1',
    '2130706433',
    '0x7f.0.0.1',
    '1.2.3.4.5',
  ])('forbids %j', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(true);
  });

  it.each([
    '1.1.1.1',
    '8.8.8.8',
    '172.15.255.255',
    '172.32.0.1',
    '192.169.0.1',
    '169.253.1.1',
    '100.128.0.1',
    '11.0.0.1',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '[2001:db8::1]',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
    '2000::1',
  ])('allows %j', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(false);
  });
});
