def seed(context):
    pass
