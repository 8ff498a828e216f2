"""Drives revaerd's qBittorrent-compatible API with the qbittorrent-api
client library, as a user's script would: log in with an API key, read
the versions, change a preference, add, list, categorise, tag, limit (rates and share limits),
edit trackers, read peers and pieces, stop, start and delete a torrent.

Usage: qbit_client.py URL KEY  (exit status 0 when every check holds)
"""

import sys
import time

import qbittorrentapi

HASH = "0123456789abcdef0123456789abcdef01234567"


def main(url: str, key: str) -> None:
    client = qbittorrentapi.Client(
        host=url, username="revaer", password=key, REQUESTS_ARGS={"timeout": 10}
    )
    client.auth_log_in()
    assert client.app.version == "v5.0.5", client.app.version
    assert client.app.web_api_version == "2.11.2", client.app.web_api_version
    prefs = client.app.preferences
    assert prefs["save_path"], "a save path"
    # As VueTorrent does: the whole object back, one value changed.
    client.app_set_preferences(prefs={**prefs, "max_active_downloads": 7, "queueing_enabled": True})
    assert client.app.preferences["max_active_downloads"] == 7, client.app.preferences

    added = client.torrents_add(
        urls=f"magnet:?xt=urn:btih:{HASH}&dn=Show", category="tv", tags="a,b", is_stopped=True
    )
    assert added == "Ok.", added
    [torrent] = client.torrents_info(torrent_hashes=HASH)
    assert torrent.hash == HASH, torrent
    assert torrent.category == "tv", torrent.category
    assert torrent.state == "stoppedDL", torrent.state
    assert sorted(torrent.tags.split(", ")) == ["a", "b"], torrent.tags
    assert client.torrents_info(status_filter="stopped")[0].hash == HASH
    # The event reaches the log a moment after the add answers.
    deadline = time.monotonic() + 10
    while "Added new torrent: 'Show'" not in (messages := [l.message for l in client.log_main()]):
        assert time.monotonic() < deadline, messages
        time.sleep(0.1)
    newest = client.log_main()[-1].id
    assert client.log_main(last_known_id=newest) == [], "nothing after the newest"

    client.torrents_create_category(name="movies")
    assert "movies" in client.torrents_categories()
    client.torrents_set_category(category="movies", torrent_hashes=HASH)
    assert [t.hash for t in client.torrents_info(category="movies")] == [HASH]
    assert client.torrents_info(category="tv") == []
    client.torrents_add_tags(tags="c", torrent_hashes=HASH)
    client.torrents_remove_tags(tags="a", torrent_hashes=HASH)
    [torrent] = client.torrents_info(torrent_hashes=HASH)
    assert sorted(torrent.tags.split(", ")) == ["b", "c"], torrent.tags
    assert sorted(client.torrents_tags()) == ["b", "c"]

    client.torrents_set_upload_limit(limit=65536, torrent_hashes=HASH)
    assert client.torrents_upload_limit(torrent_hashes=HASH)[HASH] == 65536
    client.torrents_set_share_limits(
        ratio_limit=1.5, seeding_time_limit=120, inactive_seeding_time_limit=-1, torrent_hashes=HASH
    )
    torrent = client.torrents_info(torrent_hashes=HASH)[0]
    assert torrent.ratio_limit == 1.5, torrent.ratio_limit
    assert torrent.seeding_time_limit == 120, torrent.seeding_time_limit
    assert torrent.inactive_seeding_time_limit == -1, torrent.inactive_seeding_time_limit
    assert torrent.max_ratio == 1.5 and torrent.max_seeding_time == 120, torrent
    client.transfer_set_download_limit(limit=1048576)
    assert client.transfer_download_limit() == 1048576

    client.torrents_add_trackers(
        torrent_hash=HASH, urls=["http://a.example/announce", "udp://b.example:6969"]
    )
    client.torrents_edit_tracker(
        torrent_hash=HASH,
        original_url="udp://b.example:6969",
        new_url="udp://c.example:6969",
    )
    client.torrents_remove_trackers(torrent_hash=HASH, urls="http://a.example/announce")
    urls = [t.url for t in client.torrents_trackers(torrent_hash=HASH) if t.tier >= 0]
    assert "udp://c.example:6969" in urls and "http://a.example/announce" not in urls, urls
    try:
        client.torrents_remove_trackers(torrent_hash=HASH, urls="udp://absent:1")
        raise AssertionError("removing an absent tracker is a conflict")
    except qbittorrentapi.Conflict409Error:
        pass

    client.torrents_toggle_first_last_piece_priority(torrent_hashes=HASH)
    assert client.torrents_info(torrent_hashes=HASH)[0].f_l_piece_prio is True
    peers = client.sync_torrent_peers(torrent_hash=HASH, rid=0)
    assert peers.full_update is True and peers.peers == {}, peers
    again = client.sync_torrent_peers(torrent_hash=HASH, rid=peers.rid)
    assert "full_update" not in again and again.rid != peers.rid, again
    assert client.torrents_piece_states(torrent_hash=HASH) == [], "no metadata yet"

    client.torrents_start(torrent_hashes=HASH)
    client.torrents_stop(torrent_hashes=HASH)

    client.torrents_delete(delete_files=False, torrent_hashes=HASH)
    assert client.torrents_info() == []
    client.auth_log_out()
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
