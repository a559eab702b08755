# deps-first: the same base; what changes least goes first, the code goes last.
FROM ${python_full}
WORKDIR /srv
COPY requirements.txt ./
COPY wheels/ wheels/
RUN pip install --no-cache-dir --no-index --find-links=wheels -r requirements.txt
EXPOSE 8000
CMD ["python", "app.py"]
COPY app.py ./
