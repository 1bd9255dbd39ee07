from flask import Blueprint

bp = Blueprint("transfers", __name__, url_prefix="/transfers", template_folder="templates")


@bp.get("/")
def index():
    return "todo"
