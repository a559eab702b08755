# naive: the full base image, and everything copied before the dependencies are installed.
FROM ${python_full}
WORKDIR /srv
COPY . .
RUN pip install --no-cache-dir --no-index --find-links=wheels -r requirements.txt
EXPOSE 8000
CMD ["python", "app.py"]
