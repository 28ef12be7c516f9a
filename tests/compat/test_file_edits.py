"""Item 3 of issue 13: file.line, file.comment, file.uncomment and file.blockreplace.

SALT_RESULTS and SALT_FILES are what Salt 3008.5 returned and wrote for the same SLS on the
same files (`salt-call --local state.apply`). Two differences, on purpose: a missing-markers
failure words its own comment; and file.line's insert at the end adds the line with its
newline, where Salt 3008.5 writes a blank line and the content without one.
"""
from __future__ import annotations

SLS = 'c1:\n  file.comment:\n    - name: @HOST@/comment.txt\n    - regex: ^c=\nc2:\n  file.comment:\n    - name: @HOST@/comment.txt\n    - regex: ^b=\n    - require: [c1]\nc3:\n  file.comment:\n    - name: @HOST@/comment.txt\n    - regex: ^zzz\n    - require: [c2]\nu1:\n  file.uncomment:\n    - name: @HOST@/uncomment.txt\n    - regex: c=\nu2:\n  file.uncomment:\n    - name: @HOST@/uncomment.txt\n    - regex: a=\n    - require: [u1]\nb1:\n  file.blockreplace:\n    - name: @HOST@/block.txt\n    - marker_start: "# BEGIN"\n    - marker_end: "# END"\n    - content: "new1\\nnew2"\nb2:\n  file.blockreplace:\n    - name: @HOST@/block2.txt\n    - marker_start: "# BEGIN"\n    - marker_end: "# END"\n    - content: "new"\n    - append_if_not_found: True\nb3:\n  file.blockreplace:\n    - name: @HOST@/block2.txt\n    - marker_start: "# NOPE"\n    - marker_end: "# NOPE END"\n    - content: "new"\n    - require: [b2]\nl1:\n  file.line:\n    - name: @HOST@/l_replace.txt\n    - mode: replace\n    - match: ^two\n    - content: TWO\nl2:\n  file.line:\n    - name: @HOST@/l_insert_after.txt\n    - mode: insert\n    - after: ^one\n    - content: one-and-half\nl3:\n  file.line:\n    - name: @HOST@/l_insert_start.txt\n    - mode: insert\n    - location: start\n    - content: zero\nl4:\n  file.line:\n    - name: @HOST@/l_delete.txt\n    - mode: delete\n    - match: ^two\nl5:\n  file.line:\n    - name: @HOST@/l_ensure_after.txt\n    - mode: ensure\n    - after: ^two\n    - content: two-b\nl6:\n  file.line:\n    - name: @HOST@/l_ensure_present.txt\n    - mode: ensure\n    - after: ^one\n    - content: two\nl7:\n  file.line:\n    - name: @HOST@/l_insert_end.txt\n    - mode: insert\n    - location: end\n    - content: four\n'
START = {'comment.txt': 'a=1\n#b=2\nc=3\n', 'uncomment.txt': 'a=1\n#b=2\n# c=3\n', 'block.txt': 'x\n# BEGIN\nold\n# END\ny\n', 'block2.txt': 'x\ny\n', 'l_replace.txt': 'one\ntwo\nthree\n', 'l_insert_after.txt': 'one\ntwo\nthree\n', 'l_insert_start.txt': 'one\ntwo\nthree\n', 'l_delete.txt': 'one\ntwo\nthree\n', 'l_ensure_after.txt': 'one\ntwo\nthree\n', 'l_ensure_present.txt': 'one\ntwo\nthree\n', 'l_insert_end.txt': 'one\ntwo\nthree\n'}
SALT_RESULTS = {'c1': [True, 'Commented lines successfully', {'diff': '--- \n+++ \n@@ -1,3 +1,3 @@\n a=1\n #b=2\n-c=3\n+#c=3\n'}], 'c2': [True, 'Pattern already commented', {}], 'c3': [False, 'zzz: Pattern not found', {}], 'u1': [True, 'Uncommented lines successfully', {'diff': '--- \n+++ \n@@ -1,3 +1,3 @@\n a=1\n #b=2\n-# c=3\n+ c=3\n'}], 'u2': [True, 'Pattern already uncommented', {}], 'b1': [True, 'Changes were made', {'diff': '--- \n+++ \n@@ -1,5 +1,6 @@\n x\n # BEGIN\n-old\n+new1\n+new2\n # END\n y\n'}], 'b2': [True, 'Changes were made', {'diff': '--- \n+++ \n@@ -1,2 +1,5 @@\n x\n y\n+# BEGIN\n+new\n+# END\n'}], 'b3': [False, 'Encountered error managing block: Cannot edit marked block. Markers were not found in file.. See the log for details.', {}], 'l1': [True, 'Changes were made', {'diff': '--- \n+++ \n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n'}], 'l2': [True, 'Changes were made', {'diff': '--- \n+++ \n@@ -1,3 +1,4 @@\n one\n+one-and-half\n two\n three\n'}], 'l3': [True, 'Changes were made', {'diff': '--- \n+++ \n@@ -1,3 +1,4 @@\n+zero\n one\n two\n three\n'}], 'l4': [True, 'Changes were made', {'diff': '--- \n+++ \n@@ -1,3 +1,2 @@\n one\n-two\n three\n'}], 'l5': [True, 'Changes were made', {'diff': '--- \n+++ \n@@ -1,3 +1,4 @@\n one\n two\n+two-b\n three\n'}], 'l6': [True, 'No changes needed to be made', {}], 'l7': [True, 'Changes were made', {'diff': '--- \n+++ \n@@ -1,3 +1,5 @@\n one\n two\n three\n+\n+four'}]}
SALT_FILES = {'block.txt': 'x\n# BEGIN\nnew1\nnew2\n# END\ny\n', 'block2.txt': 'x\ny\n# BEGIN\nnew\n# END\n', 'comment.txt': 'a=1\n#b=2\n#c=3\n', 'l_delete.txt': 'one\nthree\n', 'l_ensure_after.txt': 'one\ntwo\ntwo-b\nthree\n', 'l_ensure_present.txt': 'one\ntwo\nthree\n', 'l_insert_after.txt': 'one\none-and-half\ntwo\nthree\n', 'l_insert_end.txt': 'one\ntwo\nthree\n\nfour', 'l_insert_start.txt': 'zero\none\ntwo\nthree\n', 'l_replace.txt': 'one\nTWO\nthree\n', 'uncomment.txt': 'a=1\n#b=2\n c=3\n'}
SALT_BUG_INSERT_END = "one\ntwo\nthree\n\nfour"


def _setup(tree):
    for name, text in START.items():
        (tree.host / name).write_text(text)
    return tree.compile({"fe.sls": SLS}, ["fe"])


def test_line_comment_blockreplace_do_what_salt_does(tree):
    plan = _setup(tree)
    predicted = {r["__id__"]: r for r in tree.run(plan, test=True).values()}
    assert all((tree.host / n).read_text() == t for n, t in START.items())  # test mode looked only
    results = {r["__id__"]: r for r in tree.run(plan).values()}
    for sid, (result, comment, changes) in SALT_RESULTS.items():
        got = results[sid]
        if sid == "l7":  # only the diff differs on purpose (the docstring's insert at the end)
            assert (got["result"], got["comment"]) == (result, comment), sid
            assert got["changes"]["diff"].endswith(" three\n+four\n")
            assert (predicted[sid]["result"], predicted[sid]["changes"]) == (None, got["changes"]), sid
            continue
        assert (got["result"], got["changes"]) == (result, changes), sid
        if sid != "b3":
            assert got["comment"] == comment, sid
        if changes:  # test mode predicted exactly this change
            assert (predicted[sid]["result"], predicted[sid]["changes"]) == (None, changes), sid
    assert "were not found" in results["b3"]["comment"]
    for name, text in SALT_FILES.items():
        want = "one\ntwo\nthree\nfour\n" if name == "l_insert_end.txt" else text
        assert (tree.host / name).read_text() == want, name
    assert sorted(p.name for p in tree.host.glob("*.bak")) == [
        "block.txt.bak", "block2.txt.bak", "comment.txt.bak", "uncomment.txt.bak"]
    again = tree.run(plan)
    assert all(not r["changes"] for r in again.values())
