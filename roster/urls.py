from django.urls import path

from roster import feeds, planning_views, self_views, views

urlpatterns = [
    path("", views.home, name="rota_home"),
    path("board/", views.rota_board, name="rota_board"),
    path("shift/new/", views.shift_new, name="rota_shift_new"),
    path("shift/<int:pk>/", views.shift_detail, name="rota_shift"),
    path("shift/<int:pk>/move/", views.shift_move, name="rota_shift_move"),
    path("shift/<int:pk>/cover/", views.shift_cover, name="rota_shift_cover"),
    path("shift/<int:pk>/remove/", views.shift_remove, name="rota_shift_remove"),
    path("undo/", views.undo, name="rota_undo"),
    path("swap/<int:pk>/", views.swap_decide, name="rota_swap_decide"),
    path("generate/", planning_views.generate, name="rota_generate"),
    path("patterns/", planning_views.patterns, name="rota_patterns"),
    path("rules/", planning_views.cover_rules, name="rota_cover_rules"),
    path("unavailable/", planning_views.unavailable_for, name="rota_unavailable_for"),
    path("changes/", planning_views.audit, name="rota_audit"),
    path("mine/", self_views.my_shifts, name="my_shifts"),
    path("mine/unavailable/", self_views.mark_unavailable, name="my_unavailable"),
    path("mine/swap/<int:pk>/", self_views.request_swap, name="my_swap"),
    path("mine/swap/<int:pk>/withdraw/", self_views.withdraw_swap, name="my_swap_withdraw"),
    path(
        "mine/unavailable/<int:pk>/withdraw/",
        self_views.withdraw_unavailability,
        name="my_unavailable_withdraw",
    ),
    path("mine/feed/", self_views.regenerate_feed, name="my_feed_regenerate"),
    # The only roster URLs open without a login: the token in the path is the credential.
    path("feed/<str:token>/mine.ics", feeds.mine, name="rota_feed_mine"),
    path("feed/<str:token>/rota.ics", feeds.whole_rota, name="rota_feed_rota"),
]
