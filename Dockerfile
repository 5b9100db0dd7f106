# rnaigloo images. Two targets (see the README, "Containers"):
#   classify  the default classify path only: NumPy engine, no TensorFlow (small)
#   full      every command: train, evaluate, the TensorFlow engine (the default target)
#
#   docker build --target classify -t rnaigloo:classify .
#   docker build -t rnaigloo:full .
#   docker build --build-arg EXTRAS=gpu -t rnaigloo:gpu .     # full + CUDA libraries for GPU nodes
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/data" rnaigloo:classify tx.fa.gz -o calls.tsv
#
# Without Docker Hub, build on another Python base: --build-arg BASE_IMAGE=...
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
# The unprivileged user the images run as. Some bases keep their interpreter under /root
# (a pyenv CPython); that user must be able to reach it, so /root gets o+x (traverse only).
RUN useradd --uid 1000 --user-group --create-home --shell /usr/sbin/nologin rnaigloo \
 && case "$(python3 -c 'import sys; print(sys.base_prefix)')" in /root/*) chmod o+x /root ;; esac

# ---- classify: the runtime list, then the package without its TensorFlow dependencies
FROM base AS build-classify
WORKDIR /src
COPY requirements-classify.txt ./
RUN python3 -m venv /opt/rnaigloo \
 && /opt/rnaigloo/bin/pip install -r requirements-classify.txt
COPY pyproject.toml README.md LICENSE ./
COPY rnaigloo ./rnaigloo
COPY models ./models
RUN /opt/rnaigloo/bin/pip install --no-deps . \
 && /opt/rnaigloo/bin/pip uninstall --yes pip

FROM base AS classify
COPY --from=build-classify /opt/rnaigloo /opt/rnaigloo
# RNAIGLOO_IMAGE lets commands that need TensorFlow say which image to use instead
ENV PATH=/opt/rnaigloo/bin:$PATH \
    RNAIGLOO_IMAGE=classify
USER rnaigloo
WORKDIR /data
ENTRYPOINT ["rnaigloo"]
CMD ["--help"]

# ---- full: every dependency in pyproject.toml (with EXTRAS=gpu: tensorflow[and-cuda])
FROM base AS requirements
ARG EXTRAS=""
COPY pyproject.toml /src/
# the dependency list alone, so that the install below is rebuilt only when it changes
RUN python3 -c "import sys, tomllib; p = tomllib.load(open('/src/pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + [d for e in sys.argv[1].split(',') if e for d in p['optional-dependencies'][e]]))" \
    "$EXTRAS" > /requirements.txt

FROM base AS build-full
WORKDIR /src
COPY --from=requirements /requirements.txt ./
RUN python3 -m venv /opt/rnaigloo \
 && /opt/rnaigloo/bin/pip install -r requirements.txt
COPY pyproject.toml README.md LICENSE ./
COPY rnaigloo ./rnaigloo
COPY models ./models
RUN /opt/rnaigloo/bin/pip install --no-deps . \
 && /opt/rnaigloo/bin/pip uninstall --yes pip

FROM base AS full
COPY --from=build-full /opt/rnaigloo /opt/rnaigloo
ENV PATH=/opt/rnaigloo/bin:$PATH \
    RNAIGLOO_IMAGE=full \
    TF_CPP_MIN_LOG_LEVEL=3 \
    MPLCONFIGDIR=/tmp/matplotlib
USER rnaigloo
WORKDIR /data
ENTRYPOINT ["rnaigloo"]
CMD ["--help"]
