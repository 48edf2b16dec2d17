"""The ceiling for pages: a bare Flask "hello", served by the same gunicorn as the app.

gunicorn --workers 4 --chdir bench hello:app
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello"
