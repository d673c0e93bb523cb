"""The layering of docs/architecture.md, held against the code's own imports."""

from pathlib import Path

from tests.support.import_graph import violations

ROOT = Path(__file__).resolve().parent.parent


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_code_keeps_its_layers():
    assert violations(ROOT) == []


def test_platform_code_importing_a_domain_app_is_refused(tmp_path):
    root = _tree(
        tmp_path,
        {
            "tra/dynamo/backfill.py": "from assessments.models import Assessment\n",
            "assessments/models.py": "from tra.dynamo import backfill\n",
        },
    )
    assert violations(root) == [
        "tra/dynamo/backfill.py:1 tra.dynamo.backfill -> assessments.models: platform may not import assessments"
    ]


def test_documents_importing_assessments_is_refused_but_the_other_way_is_allowed(tmp_path):
    root = _tree(
        tmp_path,
        {
            "documents/services.py": "from assessments import selectors\n",
            "assessments/selectors.py": "from documents import services\n",
        },
    )
    assert violations(root) == [
        "documents/services.py:1 documents.services -> assessments: documents may not import assessments"
    ]


def test_runtime_code_importing_tests_or_devtools_is_refused(tmp_path):
    root = _tree(
        tmp_path,
        {
            "llm/bedrock.py": "from tests.support import fake_bedrock\n",
            "tra/aws.py": "import devtools.tcp_proxy\n",
            "devtools/benchmark.py": "from llm import bedrock\n",
        },
    )
    assert violations(root) == [
        "llm/bedrock.py:1 llm.bedrock -> tests.support: runtime code imports development or test code",
        "tra/aws.py:1 tra.aws -> devtools.tcp_proxy: runtime code imports development or test code",
    ]


def test_a_function_level_import_across_apps_needs_a_comment(tmp_path):
    root = _tree(
        tmp_path,
        {
            "chat/services.py": (
                "def a():\n"
                "    from documents import selectors\n"
                "\n"
                "def b():\n"
                "    # documents' selectors import chat at load time: a cycle this breaks\n"
                "    from documents import services\n"
            ),
            "documents/selectors.py": "",
            "documents/services.py": "",
        },
    )
    assert violations(root) == [
        "chat/services.py:2 chat.services -> documents: a function-level import across apps needs a comment saying why"
    ]
