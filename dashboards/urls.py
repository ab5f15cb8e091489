"""Routes of the report and dashboard pages."""

from django.urls import path

from dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("reports/<int:pk>/", views.report_page, name="report"),
    path(
        "reports/<int:pk>/export/<slug:kind>/",
        views.report_export,
        name="report_export",
    ),
    path("dashboards/<int:pk>/", views.dashboard_page, name="dashboard"),
]
