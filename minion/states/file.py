"""The `file` state module: managed, directory, symlink, absent, replace, recurse, append, line,
comment, uncomment, blockreplace.

Each function lives in a small module of its own group (file_managed, file_tree, file_entry,
file_edit); this table is what the registry in minion/states/__init__.py reads.
"""

from __future__ import annotations

from minion.states.file_blockreplace import Blockreplace
from minion.states.file_comment import Comment, Uncomment
from minion.states.file_edit import Append, Replace
from minion.states.file_line import Line
from minion.states.file_entry import Absent, Symlink
from minion.states.file_managed import Managed
from minion.states.file_tree import Directory, Recurse

FUNCTIONS = {
    "managed": Managed(),
    "directory": Directory(),
    "symlink": Symlink(),
    "absent": Absent(),
    "replace": Replace(),
    "recurse": Recurse(),
    "append": Append(),
    "line": Line(),
    "comment": Comment(),
    "uncomment": Uncomment(),
    "blockreplace": Blockreplace(),
}
