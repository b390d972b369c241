import type { StatusDocument } from "./schema.ts";
import { esc } from "./html.ts";

/**
 * Silences and acknowledgements from the status page, for an operator with the admin token. The page itself stays
 * read-only: the form changes nothing without the token, which the script sends as
 * `Authorization: Bearer` to the admin route `/api/silences` (audited there: the silence records the
 * token's fingerprint, a lift is logged). The token lives only in the password field (never stored,
 * gone on reload), and nothing rides on a cookie: a page on another site cannot make a browser send
 * it (no CSRF by construction; a cross-site request with that header also needs CORS, which the
 * admin routes do not grant). It sits outside <main>, so the page's refresh does not wipe what is typed.
 */

/** What can be silenced: each probe, each check its latest result reported, each SLO. Values are the API's matcher, as JSON. */
function targets(doc: StatusDocument): string {
  const option = (matcher: Record<string, string>, label: string) => `<option value="${esc(JSON.stringify(matcher))}">${esc(label)}</option>`;
  const probes = doc.probes.map((p) => [
    option({ probe: p.id }, `${p.id}: the whole probe`),
    ...(p.latest?.checks ?? []).map((c) => option({ probe: p.id, check: c.name }, `${p.id} / ${c.name}`)),
  ].join("")).join("");
  const slos = doc.slos.items.map((s) => option({ slo: s.id }, `SLO ${s.id}`)).join("");
  const acked = new Set(doc.alerts.silences.filter((s) => s.ack).map((s) => `silence:${s.id}`));
  const firing = doc.alerts.firing.filter((a) => a.since && !(a.heldBy && acked.has(a.heldBy))).map((a) => option({ ack: a.key }, `Acknowledge ${a.key}`)).join("");
  return `${firing ? `<optgroup label="Acknowledge a firing alert">${firing}</optgroup>` : ""}<optgroup label="Silence probes and checks">${probes}</optgroup>${slos ? `<optgroup label="Silence SLOs">${slos}</optgroup>` : ""}`;
}

const DURATIONS: [number, string][] = [[30, "30 min"], [60, "1 h"], [120, "2 h"], [480, "8 h"], [1440, "1 day"], [10080, "1 week"]];

export function operatorSection(doc: StatusDocument): string {
  return `<section id="operator" aria-labelledby="operator-h"><h2 id="operator-h">Operator</h2>
<details><summary>Acknowledge an alert, or silence a probe, a check or an SLO (needs the admin token)</summary>
<noscript><p>This needs JavaScript; or use <code>npx beacon-sentinel silence add</code>.</p></noscript>
<form id="op-form" class="op">
<p><label for="op-token">Admin token</label><input id="op-token" name="token" type="password" autocomplete="off" required minlength="16"></p>
<p><label for="op-target">What</label><select id="op-target" name="target" required>${targets(doc)}</select></p>
<p><label for="op-for">For</label><select id="op-for" name="for">${DURATIONS.map(([m, l]) => `<option value="${m}"${m === 120 ? " selected" : ""}>${l}</option>`).join("")}</select></p>
<p><label for="op-reason">Reason</label><input id="op-reason" name="reason" type="text" required maxlength="500"></p>
<p><button type="submit">Apply</button> <button type="button" id="op-list">Show silences</button></p>
</form>
<p id="op-result" role="status" aria-live="polite"></p>
<ul id="op-silences" aria-label="Silences"></ul>
</details></section>`;
}

export const OPERATOR_CSS = `.op p{margin:6px 0}.op label{display:block;font-weight:600}.op input,.op select{width:100%;max-width:28rem;font:inherit;padding:4px}
button{font:inherit;padding:4px 12px}#op-silences li{margin:4px 0}`;

/**
 * The operator form's behaviour; part of the page's one script (its CSP hash covers it). What was done
 * is announced (#op-result, a live region) only after the list is redrawn, so "Silenced …" or
 * "Lifted …" means the list below already shows it: announced first, a keyboard or screen-reader user
 * (and the browser test, on a loaded machine) could reach a list one step behind. A change that was
 * made is never reported as "Not done" because the list then failed to load; that is said beside it.
 */
export const OPERATOR_SCRIPT = `(()=>{const $=i=>document.getElementById(i),form=$("op-form");if(!form)return;const out=$("op-result"),list=$("op-silences");
async function call(method,path,body){const r=await fetch(path,{method,cache:"no-store",headers:{authorization:"Bearer "+$("op-token").value.trim(),...(body?{"content-type":"application/json"}:{})},...(body?{body:JSON.stringify(body)}:{})});
let j={};try{j=await r.json()}catch(e){}if(r.status===401||r.status===403)throw new Error("refused: that is not the admin token");if(!r.ok)throw new Error(j.message||"HTTP "+r.status);return j}
const what=m=>m.ack?m.ack:m.slo?"SLO "+m.slo:m.check?m.probe+" / "+m.check:m.probe,named=s=>s.ack?"acknowledgement of "+s.ack.alertKey:"silence of "+what(s.matcher);
async function show(announce){const j=await call("GET","/api/silences");const items=j.silences.map(s=>{const li=document.createElement("li"),b=document.createElement("button");
li.textContent=(s.ack?"Acknowledged "+s.ack.alertKey:what(s.matcher))+" until "+s.endsAt+(s.comment?" ("+s.comment+")":"")+", by "+s.createdBy+" ";b.type="button";b.textContent="Lift";b.setAttribute("aria-label","Lift the "+named(s));
b.addEventListener("click",async()=>{try{await call("DELETE","/api/silences/"+encodeURIComponent(s.id))}catch(e){out.textContent="Not lifted: "+e.message;return}out.textContent=await relisted("Lifted the "+named(s));$("op-list").focus()});li.append(b);return li});
list.replaceChildren(...items);if(announce)out.textContent=items.length+(items.length===1?" silence":" silences")}
async function relisted(done){try{await show(false);return done}catch(e){return done+"; the list could not be refreshed: "+e.message}}
form.addEventListener("submit",async e=>{e.preventDefault();const m=JSON.parse($("op-target").value);
let j;try{j=await call("POST","/api/silences",{...m,durationMinutes:Number($("op-for").value),comment:$("op-reason").value.trim()})}catch(e){out.textContent="Not done: "+e.message;return}
const sent=Object.entries(j.sent||{}).map(([c,r])=>c+": "+r).join(", ");out.textContent=await relisted((m.ack?"Acknowledged ":"Silenced ")+what(m)+" until "+j.silence.endsAt+(sent?" ("+sent+")":""))});
$("op-list").addEventListener("click",()=>show(true).catch(e=>{out.textContent=e.message}))})();`;
