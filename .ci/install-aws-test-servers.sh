#!/usr/bin/env bash
# Installs what the S3 and DynamoDB tests start, when missing (idempotent, quiet):
#  - dynalite 4.0.0 (npm, MIT), a DynamoDB-compatible server, into .ci/node (DynaliteServer runs it);
#  - S3Proxy's class path (.ci/s3proxy/pom.xml, Maven Central), cached in .ci/s3proxy/target/classpath.txt
#    (S3ProxyServer runs S3Proxy in its own JVM with it).
# MVN may name the Maven command (e.g. "mvn -B -q -Dmaven.repo.local=/path"); default "mvn -B -q".
set -euo pipefail
cd "$(dirname "$0")"
DYNALITE_VERSION=4.0.0

if ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "npm is missing and cannot be installed here (needs root and apt-get): the DynamoDB tests need dynalite" >&2
    exit 1
  fi
fi
if [ ! -x node/node_modules/.bin/dynalite ] \
    || ! grep -q "\"version\": \"$DYNALITE_VERSION\"" node/node_modules/dynalite/package.json 2>/dev/null; then
  mkdir -p node
  # dynalite's optional native LevelDB build may warn; the in-memory store the tests use needs none of it.
  npm install --prefix node --no-audit --no-fund --loglevel=error "dynalite@$DYNALITE_VERSION" >/dev/null
fi
node/node_modules/.bin/dynalite --help >/dev/null

if [ ! -s s3proxy/target/classpath.txt ] || [ s3proxy/pom.xml -nt s3proxy/target/classpath.txt ]; then
  mkdir -p s3proxy/target
  ${MVN:-mvn -B -q} -f s3proxy/pom.xml dependency:build-classpath \
    -Dmdep.outputFile="$PWD/s3proxy/target/classpath.txt.tmp" >/dev/null
  mv s3proxy/target/classpath.txt.tmp s3proxy/target/classpath.txt
fi
