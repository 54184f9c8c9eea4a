/** One small stylesheet for both pages; nothing is loaded from elsewhere. */
export const STYLE = `
:root { color-scheme: light; --fg:#1d2430; --muted:#5b6675; --line:#dde3ea; --ok:#1f9d55; --warn:#b7791f; --bad:#c53030; --accent:#2b6cb0; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: #f5f7fa; }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 16px 24px; display: flex; align-items: center; gap: 16px; }
header h1 { font-size: 22px; margin: 0; flex: 1; }
header .me { color: var(--muted); font-size: 14px; }
main { max-width: 880px; margin: 0 auto; padding: 24px; }
button { font: inherit; border-radius: 8px; border: 1px solid var(--line); background: #fff; padding: 8px 14px; cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { color: var(--bad); }
button:disabled { opacity: .55; cursor: default; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 16px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 16px; display: flex; flex-direction: column; gap: 10px; }
.card h3 { margin: 0; font-size: 18px; }
.status { font-weight: 600; font-size: 14px; }
.status.AVAILABLE { color: var(--ok); } .status.OFFLINE { color: var(--muted); } .status.NEEDS_REPAIR { color: var(--warn); }
.caps { display: flex; flex-wrap: wrap; gap: 6px; margin: 0; padding: 0; list-style: none; }
.caps li { font-size: 13px; background: #eef2f7; border-radius: 999px; padding: 2px 10px; color: var(--muted); }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: auto; }
.empty { text-align: center; color: var(--muted); padding: 48px 16px; background: #fff; border: 1px dashed var(--line); border-radius: 12px; }
.empty strong { display: block; color: var(--fg); font-size: 18px; margin-bottom: 6px; }
.alert { background: #fff5f5; border: 1px solid #feb2b2; color: var(--bad); border-radius: 8px; padding: 10px 14px; margin-bottom: 16px; }
.alert:empty { display: none; }
.note { background: #f0fff4; border: 1px solid #9ae6b4; color: #22543d; border-radius: 8px; padding: 10px 14px; margin-bottom: 16px; }
.note:empty { display: none; }
dialog { border: none; border-radius: 14px; padding: 24px; max-width: 420px; width: 92vw; box-shadow: 0 20px 60px rgba(0,0,0,.25); }
dialog h2 { margin: 0 0 12px; }
.qr { width: 240px; height: 240px; display: block; margin: 8px auto; }
.pin { font-size: 36px; letter-spacing: 6px; font-weight: 700; text-align: center; font-variant-numeric: tabular-nums; }
.code { font-family: ui-monospace, monospace; font-size: 18px; text-align: center; }
.link { word-break: break-all; font-size: 12px; color: var(--muted); }
label { display: block; font-weight: 600; margin: 12px 0 4px; }
input[type=text], input[type=password], input:not([type]) { font: inherit; width: 100%; padding: 10px 12px; border: 1px solid var(--line); border-radius: 8px; }
progress { width: 100%; height: 12px; }
.row { display: flex; gap: 8px; justify-content: flex-end; margin-top: 16px; }
.muted { color: var(--muted); font-size: 14px; }
`;
