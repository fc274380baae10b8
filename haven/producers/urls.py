app_name = "producers"

urlpatterns: list = []
