// ESLint: recommended rules, typescript-eslint with type information, and Pulumi's
// rules against Outputs in template literals (which print "Calling [toString] on an
// [Output<T>]" instead of the value).
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "dist/", "bin/", "**/*.js", "**/*.mjs"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        // One TypeScript program for every file (the root tsconfig includes them all): the project
        // service would build one per nearest tsconfig (components/, policy-pack/), each loading
        // the AWS provider's types again.
        languageOptions: { parserOptions: { project: ["./tsconfig.json"], tsconfigRootDir: import.meta.dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
        },
    },
    {
        // Tests and tools handle untyped JSON (policies, recorded inputs) on purpose.
        files: ["tests/**/*.ts", "tools/**/*.ts", "examples/*/test/**/*.ts", "policy-pack/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
);
