// client.js - Toxiproxy's Node client (npm toxiproxy-node-client) against
// `itm-env proxy`: node client.js API_URL UPSTREAM.  One line per check,
// "ok DESC" or "not ok DESC: detail", for tests/proxy/node-client.sh.
"use strict";
const { Toxiproxy } = require("toxiproxy-node-client");
const [url, upstream] = process.argv.slice(2);
const tp = new Toxiproxy(url);

function check(cond, desc, detail) {
  console.log(cond ? `ok ${desc}` : `not ok ${desc}: ${JSON.stringify(detail)}`);
}

async function rejects(p) {
  try { await p; return null; } catch (e) { return e.message || String(e); }
}

(async () => {
  const version = await tp.getVersion();
  check(/"version"/.test(version), "getVersion", version);

  const proxy = await tp.createProxy({ name: "db", listen: "127.0.0.1:0", upstream });
  check(proxy.name === "db" && proxy.enabled === true && /^127\.0\.0\.1:\d+$/.test(proxy.listen)
        && proxy.listen !== "127.0.0.1:0", "createProxy", proxy.toJson());
  const dup = await rejects(tp.createProxy({ name: "db", listen: "127.0.0.1:0", upstream }));
  check(/409/.test(dup || ""), "createProxy twice: 409", dup);

  const got = await tp.get("db");
  check(got.upstream === upstream && got.listen === proxy.listen, "get", got.toJson());
  const all = await tp.getAll();
  check(Object.keys(all).join() === "db", "getAll", Object.keys(all));

  const toxic = await proxy.addToxic({ type: "latency", attributes: { latency: 100, jitter: 10 } });
  check(toxic.name === "latency_downstream" && toxic.stream === "downstream"
        && toxic.toxicity === 1 && toxic.attributes.latency === 100 && toxic.attributes.jitter === 10,
        "addToxic latency (defaults: name, stream, toxicity)", toxic.toJson());
  const up = await proxy.addToxic({ name: "cut", type: "timeout", stream: "upstream", toxicity: 0.5,
                                    attributes: { timeout: 1000 } });
  check(up.name === "cut" && up.stream === "upstream" && up.toxicity === 0.5
        && up.attributes.timeout === 1000, "addToxic timeout upstream, toxicity 0.5", up.toJson());
  const bad = await rejects(proxy.addToxic({ type: "nope" }));
  check(/400/.test(bad || ""), "addToxic unknown type: 400", bad);
  const badattr = await rejects(proxy.addToxic({ type: "latency", name: "x", attributes: { latency: "1s" } }));
  check(/400/.test(badattr || ""), "addToxic attribute of a bad type: 400", badattr);

  const fetched = await proxy.getToxic("latency_downstream");
  check(fetched.attributes.latency === 100, "getToxic", fetched.toJson());
  const updated = await toxic.update({ attributes: { latency: 250 } });
  check(updated.attributes.latency === 250 && updated.attributes.jitter === 10, "toxic update merges",
        updated.toJson());
  const listed = (await tp.getApi().get(`${url}/proxies/db/toxics`)).data;
  check(Array.isArray(listed) && listed.length === 2 && listed[0].name === "cut",
        "GET toxics: upstream first, both", listed);
  await toxic.remove();
  const gone = await rejects(proxy.getToxic("latency_downstream"));
  check(/404/.test(gone || ""), "toxic removed: getToxic 404", gone);

  const disabled = await proxy.update({ ...proxy.toJson(), enabled: false });
  check(disabled.enabled === false, "proxy update enabled:false", disabled.toJson());
  await tp.reset();
  const after = (await tp.getApi().get(`${url}/proxies/db`)).data;
  check(after.enabled === true && after.toxics.length === 0, "reset: enabled, no toxics", after);

  const pop = await tp.populate([{ name: "db", listen: after.listen, upstream },
                                 { name: "cache", listen: "127.0.0.1:0", upstream }]);
  check(Object.keys(pop).sort().join() === "cache,db", "populate", Object.keys(pop));
  await (await tp.get("cache")).remove();
  const missing = await rejects(tp.get("cache"));
  check(/404/.test(missing || ""), "proxy removed: get 404", missing);
  await proxy.remove();
  check(Object.keys(await tp.getAll()).length === 0, "no proxy left", null);
})().catch((e) => { console.log(`not ok unexpected error: ${e.stack || e}`); });
