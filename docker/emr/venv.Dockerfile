# syntax=docker/dockerfile:1
# Builds venv.tar.gz for spark.archives on the stock EMR Serverless image (emr.python: archive):
# Amazon Linux 2023 like EMR, a CPython 3.11 built without a shared libpython (so the interpreter is
# relocatable), then `python -m coretelecoms.deploy.packaging package`, which venv-packs the project with the
# standard library for /home/hadoop/environment. The archive and the wheel land in dist/emr:
#
#   DOCKER_BUILDKIT=1 docker build -f docker/emr/venv.Dockerfile --output dist/emr .
#   coretelecoms emr package --upload   # or upload dist/emr yourself: see lib/coretelecoms/deploy/emr.py
#
# Build it for the application's architecture (--platform linux/amd64 or linux/arm64).
ARG AL2023_IMAGE=amazonlinux:2023
ARG PYTHON_VERSION=3.11.14

FROM ${AL2023_IMAGE} AS build
ARG PYTHON_VERSION
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# The repository is locked to the release of the base image (AL2023 deterministic upgrades); pin
# AL2023_IMAGE to a dated tag (amazonlinux:2023.x.yyyymmdd.n) to freeze it.
# hadolint ignore=DL3041
RUN dnf install -y gcc make tar gzip xz findutils openssl-devel bzip2-devel libffi-devel zlib-devel \
        sqlite-devel xz-devel \
    && dnf clean all \
    && rm -rf /var/cache/dnf
WORKDIR /tmp/python
RUN curl -fsSL "https://www.python.org/ftp/python/${PYTHON_VERSION}/Python-${PYTHON_VERSION}.tgz" \
        | tar xz --strip-components=1 \
    && ./configure --prefix=/opt/python --with-ensurepip=install \
    && make -j"$(nproc)" \
    && make install \
    && rm -rf /tmp/python
WORKDIR /src
COPY pyproject.toml README.md ./
COPY lib/ lib/
COPY conf/ conf/
RUN /opt/python/bin/python3.11 -m pip install --no-cache-dir venv-pack==0.2.0 \
    && PYTHONPATH=lib /opt/python/bin/python3.11 -m coretelecoms.deploy.packaging package /out

FROM scratch AS export
COPY --from=build /out/ /
