// doiuse-email (npm `@jsx-email/doiuse-email`, the caniemail.com data) on one HTML file, for
// tests/e2e/binary/email_css.rs. Prints one tab-separated line per fact:
//   version  <doiuse-email version>
//   client   <family> <client>             every client a family matches, found or not
//   error    <client> <feature>            one per occurrence, as doiuse-email reports them
//   warning  <client> <feature>
// Fails on a message it cannot read, so a change of doiuse-email's wording is loud.
//
//   node doiuse.mjs <package dir> <file.html> <family>...
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [packageDir, htmlFile, ...families] = process.argv.slice(2);
if (!packageDir || !htmlFile || families.length === 0) {
  console.error('usage: node doiuse.mjs <package dir> <file.html> <family>...');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const dir = resolve(packageDir);
const { DoIUseEmail } = require(dir);
const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const html = readFileSync(htmlFile, 'utf8');
const out = [`version\t${version}`];
// "`border-radius` is not supported by `outlook.windows`", "… is only partially supported by …"
const message = /^`(.+)` is (not|only partially) supported by `([^`]+)`$/;

for (const family of families) {
  const checker = new DoIUseEmail({ emailClients: [`${family}.*`] });
  if (checker.emailClients.length === 0) {
    console.error(`no email client matches ${family}.*`);
    process.exit(1);
  }
  for (const client of checker.emailClients) out.push(`client\t${family}\t${client}`);
  const result = checker.check(html);
  for (const [kind, messages] of [['error', result.errors ?? []], ['warning', result.warnings]]) {
    for (const text of messages) {
      const m = message.exec(text);
      if (!m || (kind === 'error') !== (m[2] === 'not')) {
        console.error(`unexpected doiuse-email ${kind}: ${text}`);
        process.exit(1);
      }
      out.push(`${kind}\t${m[3]}\t${m[1]}`);
    }
  }
}
console.log(out.join('\n'));
