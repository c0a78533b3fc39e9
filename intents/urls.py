from django.urls import path

from intents import views

app_name = "intents"
urlpatterns = [
    path("", views.home, name="home"),
]
