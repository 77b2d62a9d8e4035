#!/bin/sh
# The static checks of `npm test` (types, lint, formatting), run at once: each is one process
# on one core, and the machines here have two. Every check's output is shown; the result fails
# if any check fails.
npm run -s typecheck & typecheck=$!
npm run -s lint & lint=$!
npm run -s format:check
format=$?
wait $typecheck
types=$?
wait $lint
linted=$?
[ $types -eq 0 ] || echo "checks: typecheck failed" >&2
[ $linted -eq 0 ] || echo "checks: lint failed" >&2
[ $format -eq 0 ] || echo "checks: format:check failed" >&2
[ $types -eq 0 ] && [ $linted -eq 0 ] && [ $format -eq 0 ]
