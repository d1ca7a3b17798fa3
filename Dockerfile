# imds-lint as a container image: docker run --rm -v "$PWD:/src" imds-lint
# A wheel is built in the first stage (hatchling and the build front-end stay there), installed in the
# second; the image runs as a non-root user and scans /src.
FROM python:3.12-slim AS build
WORKDIR /build
COPY pyproject.toml hatch_build.py README.md LICENSE ./
COPY imds_lint/ imds_lint/
COPY rules/ rules/
RUN pip install --no-cache-dir build==1.2.2.post1 \
    && python -m build --wheel --outdir /wheels .

FROM python:3.12-slim
LABEL org.opencontainers.image.title="imds-lint" \
      org.opencontainers.image.description="Find code that breaks when EC2 instances require IMDSv2 tokens" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/imds-lint/imds-lint"
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --create-home --uid 10001 lint
USER 10001
WORKDIR /src
ENTRYPOINT ["imds-lint"]
CMD ["."]
