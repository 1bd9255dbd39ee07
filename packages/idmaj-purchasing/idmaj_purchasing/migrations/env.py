from core.migration_env import run

run()
