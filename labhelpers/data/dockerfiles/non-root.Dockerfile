# non-root: multi-stage, plus a user without privileges and a health check.
FROM ${python_full} AS builder
COPY requirements.txt /tmp/
COPY wheels/ /tmp/wheels/
RUN python -m venv /venv \
 && /venv/bin/pip install --no-cache-dir --no-index --find-links=/tmp/wheels -r /tmp/requirements.txt

FROM ${python}
RUN useradd --create-home --uid 10001 app
COPY --from=builder /venv /venv
ENV PATH=/venv/bin:$PATH
WORKDIR /srv
USER app
EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=3s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"]
CMD ["python", "app.py"]
COPY app.py ./
