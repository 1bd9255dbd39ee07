from flask import Blueprint

bp = Blueprint("visits", __name__, url_prefix="/visits", template_folder="templates")
