FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY receiver receiver
COPY workers workers
COPY shared shared
COPY migrations migrations
RUN pip install --no-cache-dir .
ENV PORT=8000
EXPOSE 8000
CMD ["switchboard", "web", "--host", "0.0.0.0"]
