#!/usr/bin/env bash
# Downloads GitHub's REST API description (npm package @octokit/openapi) into
# benches/data/ (git-ignored) for the spec-loading benchmark.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p data
cd data
if [ ! -f package/generated/api.github.com.json ]; then
  rm -f octokit-openapi-*.tgz
  npm pack @octokit/openapi >/dev/null
  tar xzf octokit-openapi-*.tgz package/generated/api.github.com.json
fi
ls -l package/generated/api.github.com.json
