# CPU image of rnaigloo with the bundled human model.
#   docker build -t rnaigloo .
#   docker run --rm -v "$PWD:/data" rnaigloo classify /data/tx.fa.gz -o /data/calls.tsv
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    TF_CPP_MIN_LOG_LEVEL=3

WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY rnaigloo ./rnaigloo
COPY models ./models
RUN pip install --upgrade pip && pip install . && rm -rf /src

WORKDIR /data
ENTRYPOINT ["rnaigloo"]
CMD ["--help"]
