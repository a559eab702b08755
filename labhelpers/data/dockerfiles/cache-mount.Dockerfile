# cache-mount: deps-first for BuildKit. The wheels are bind-mounted for the one RUN that
# needs them (never copied into a layer); pip's cache is a cache mount, kept between builds.
FROM ${python_full}
WORKDIR /srv
COPY requirements.txt ./
RUN --mount=type=bind,source=wheels,target=/tmp/wheels \
    --mount=type=cache,target=/root/.cache/pip \
    pip install --no-index --find-links=/tmp/wheels -r requirements.txt
EXPOSE 8000
CMD ["python", "app.py"]
COPY app.py ./
