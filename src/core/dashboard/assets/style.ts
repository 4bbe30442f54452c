// The dashboard's stylesheet, bundled into the executable as a string (no files to ship, nothing from a CDN).
// Colours meet WCAG AA contrast on their backgrounds; state is always said in words too, never by colour alone.
// One column on a phone; tables scroll sideways inside their own box instead of widening the page.

export const STYLE_CSS = `
:root { --fg: #1b1f24; --muted: #4b5563; --bg: #ffffff; --panel: #f3f4f6; --line: #c9ced6; --accent: #0b57d0;
  --ok-bg: #e6f4ea; --ok-fg: #0d5c2a; --bad-bg: #fde8e8; --bad-fg: #9b1c1c; --warn-bg: #fff4d6; --warn-fg: #6b4500;
  --run-bg: #e5eefc; --run-fg: #0b3d91; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); line-height: 1.45; font-size: 16px; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, main:focus-visible {
  outline: 3px solid #f59e0b; outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--bg); padding: .5rem; }
.skip:focus { left: .5rem; z-index: 10; }
header.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; justify-content: space-between;
  padding: .6rem 1rem; background: #14213d; color: #fff; }
header.top a { color: #fff; }
header.top .brand { font-weight: 700; text-decoration: none; margin-right: 1rem; }
header.top nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: 0; padding: 0; }
header.top nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
header.top .who { display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; }
header.top .who button { background: transparent; color: #fff; border: 1px solid #fff; }
main { padding: 1rem; max-width: 1200px; margin: 0 auto; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
section.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin: 0 0 1rem; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: var(--bg); }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #e5e7eb; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: 999px; font-size: .85rem; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.ok { background: var(--ok-bg); color: var(--ok-fg); }
.bad { background: var(--bad-bg); color: var(--bad-fg); }
.warn { background: var(--warn-bg); color: var(--warn-fg); }
.run { background: var(--run-bg); color: var(--run-fg); }
.muted { color: var(--muted); }
.note { border-left: 4px solid var(--line); padding: .25rem .75rem; background: var(--panel); }
.alert { border: 2px solid var(--bad-fg); background: var(--bad-bg); color: var(--bad-fg); padding: .5rem .75rem; border-radius: 4px; margin: 0 0 1rem; }
.done { border: 2px solid var(--ok-fg); background: var(--ok-bg); color: var(--ok-fg); padding: .5rem .75rem; border-radius: 4px; margin: 0 0 1rem; }
#live-banner { position: sticky; top: 0; z-index: 5; padding: .4rem 1rem; background: var(--warn-bg); color: var(--warn-fg); border-bottom: 1px solid var(--warn-fg); font-weight: 600; }
#live-banner[hidden] { display: none; }
form.inline { display: inline; }
form.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: .5rem 1rem; align-items: end; }
label { display: block; font-weight: 600; font-size: .9rem; }
label.check { display: flex; gap: .4rem; align-items: center; font-weight: 400; }
input[type=text], input[type=password], select, textarea { width: 100%; padding: .4rem; font: inherit; border: 1px solid #6b7280; border-radius: 4px; background: #fff; color: var(--fg); }
button { font: inherit; padding: .35rem .8rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad-fg); border-color: var(--bad-fg); }
.actions { display: flex; flex-wrap: wrap; gap: .4rem; }
.spaced { margin-top: .5rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
progress { width: 10rem; max-width: 100%; height: 1rem; }
ol.timeline { list-style: none; padding: 0; margin: 0; }
ol.timeline > li { border-left: 4px solid var(--line); padding: .25rem .75rem .5rem; margin-bottom: .5rem; background: var(--bg); }
ol.timeline > li.state-SUCCESS { border-color: var(--ok-fg); }
ol.timeline > li.state-FAILURE, ol.timeline > li.state-REVERTED { border-color: var(--bad-fg); }
ol.timeline > li.state-RUNNING { border-color: var(--run-fg); }
ol.timeline ul { margin: .25rem 0 0; padding-left: 1.2rem; font-size: .9rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .9rem; overflow-wrap: anywhere; }
.login { max-width: 26rem; margin: 2rem auto; }
.login form { display: grid; gap: .75rem; }
@media (max-width: 640px) {
  main { padding: .5rem; }
  h1 { font-size: 1.3rem; }
  dl.facts { grid-template-columns: 1fr; }
  th, td { padding: .35rem; font-size: .92rem; }
}
`;
