#!/usr/bin/env bash
# Installs the component package (components/) on its own, from its own lockfile, in a
# temporary directory, and infers its schema there with a type-checking ts-node: what
# `pulumi package add` does before it generates an SDK, short of the CLI. It proves the
# package needs nothing from the rest of the repository. Needs the npm registry.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$here/components" "$work/components"
rm -rf "$work/components/node_modules"
(cd "$work/components" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
node - "$work/components" <<'JS'
const path = require("path");
const dir = process.argv[2];
const fromPackage = (name) => require(require.resolve(name, { paths: [dir] }));
fromPackage("ts-node").register({ project: path.join(dir, "tsconfig.json") }); // type-checks, as Pulumi's plugin host does
const { ComponentProvider, getPulumiComponents } = fromPackage("@pulumi/pulumi/provider/experimental");
const pkg = require(path.join(dir, "package.json"));
const components = getPulumiComponents(require(dir));
new ComponentProvider({ name: pkg.name, dirname: dir, components }).getSchema().then(
    (text) => {
        const schema = JSON.parse(text);
        console.log(`${schema.name} ${schema.version}: ${Object.keys(schema.resources).length} components, installed and analysed on their own`);
        for (const token of Object.keys(schema.resources)) console.log(`  ${token}`);
    },
    (error) => {
        console.error(error);
        process.exit(1);
    },
);
JS
