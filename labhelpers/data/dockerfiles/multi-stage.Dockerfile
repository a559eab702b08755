# multi-stage: install in the full image, run in the slim one; the wheels stay behind.
FROM ${python_full} AS builder
COPY requirements.txt /tmp/
COPY wheels/ /tmp/wheels/
RUN python -m venv /venv \
 && /venv/bin/pip install --no-cache-dir --no-index --find-links=/tmp/wheels -r /tmp/requirements.txt

FROM ${python}
COPY --from=builder /venv /venv
ENV PATH=/venv/bin:$PATH
WORKDIR /srv
EXPOSE 8000
CMD ["python", "app.py"]
COPY app.py ./
