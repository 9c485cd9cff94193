from django.urls import path

from roster.views import board, feeds, mine, planning

urlpatterns = [
    path("", board.home, name="rota_home"),
    path("board/", board.rota_board, name="rota_board"),
    path("shift/new/", board.shift_new, name="rota_shift_new"),
    path("shift/<int:pk>/", board.shift_detail, name="rota_shift"),
    path("shift/<int:pk>/move/", board.shift_move, name="rota_shift_move"),
    path("shift/<int:pk>/cover/", board.shift_cover, name="rota_shift_cover"),
    path("shift/<int:pk>/remove/", board.shift_remove, name="rota_shift_remove"),
    path("undo/", board.undo, name="rota_undo"),
    path("swap/<int:pk>/", board.swap_decide, name="rota_swap_decide"),
    path("generate/", planning.generate, name="rota_generate"),
    path("patterns/", planning.patterns, name="rota_patterns"),
    path("rules/", planning.cover_rules, name="rota_cover_rules"),
    path("unavailable/", planning.unavailable_for, name="rota_unavailable_for"),
    path(
        "unavailable/<int:pk>/remove/",
        planning.unavailable_remove,
        name="rota_unavailable_remove",
    ),
    path("patterns/<int:pk>/", planning.pattern_edit, name="rota_pattern"),
    path("patterns/<int:pk>/end/", planning.pattern_end, name="rota_pattern_end"),
    path("changes/", planning.audit, name="rota_audit"),
    path("mine/", mine.my_shifts, name="my_shifts"),
    path("mine/unavailable/", mine.mark_unavailable, name="my_unavailable"),
    path("mine/swap/<int:pk>/", mine.request_swap, name="my_swap"),
    path("mine/swap/<int:pk>/withdraw/", mine.withdraw_swap, name="my_swap_withdraw"),
    path(
        "mine/unavailable/<int:pk>/withdraw/",
        mine.withdraw_unavailability,
        name="my_unavailable_withdraw",
    ),
    path("mine/feed/", mine.regenerate_feed, name="my_feed_regenerate"),
    # The only roster URLs open without a login: the token in the path is the credential.
    path("feed/<str:token>/mine.ics", feeds.mine, name="rota_feed_mine"),
    path("feed/<str:token>/rota.ics", feeds.whole_rota, name="rota_feed_rota"),
]
