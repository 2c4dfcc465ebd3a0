#!/usr/bin/env node
// Renders a CSL-JSON file as a plain-text bibliography with citeproc-js, the
// processor Zotero uses:  node render.js STYLE.csl ITEMS.json LOCALE.xml
// One entry per line, in the order the style sorts them. The en-US locale file
// is passed in (the test uses the one citeproc-py ships) so that nothing is
// fetched over the network.
"use strict";
const fs = require("fs");
const CSL = require("citeproc");

const [stylePath, itemsPath, localePath] = process.argv.slice(2);
if (!stylePath || !itemsPath || !localePath) {
  console.error("usage: node render.js STYLE.csl ITEMS.json LOCALE.xml");
  process.exit(2);
}
const style = fs.readFileSync(stylePath, "utf8");
const items = JSON.parse(fs.readFileSync(itemsPath, "utf8"));
const byId = Object.fromEntries(items.map((item) => [String(item.id), item]));
const locale = fs.readFileSync(localePath, "utf8");

const engine = new CSL.Engine(
  { retrieveLocale: () => locale, retrieveItem: (id) => byId[id] },
  style,
  "en-US",
);
engine.setOutputFormat("text");
engine.updateItems(Object.keys(byId));
const [, entries] = engine.makeBibliography();
for (const entry of entries) process.stdout.write(entry.replace(/\s+/g, " ").trim() + "\n");
