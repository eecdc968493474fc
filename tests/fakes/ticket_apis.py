"""Stateful fakes of the Jira Cloud REST API (v2, what the `jira` client calls) and the GitHub REST
API, served through `responses` so the real clients do real HTTP. Only the endpoints write-back uses,
with the documented request and response shapes, authentication and error bodies.

`faults` on either fake is a queue: each request first takes the next fault, if any (an HTTP status
with headers, or an exception to raise as the transport would), instead of being served.
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

import responses

STAMP = "2026-11-30T12:00:00.000+0000"


@dataclass
class Fault:
    status: int = 500
    headers: dict = field(default_factory=dict)
    body: object = None
    raises: Exception | None = None


def _fault_response(fault: Fault):
    if fault.raises is not None:
        raise fault.raises
    body = fault.body if isinstance(fault.body, str) else json.dumps(fault.body or {})
    return fault.status, {"Content-Type": "application/json", **fault.headers}, body


class FakeJira:
    """Jira Cloud: /rest/api/2/issue/{key}/comment (GET, POST), /rest/api/2/issue/{idOrKey} (GET, PUT)."""

    def __init__(self, rsps: responses.RequestsMock, base: str = "https://acme.atlassian.net",
                 email: str = "bot@acme.example", token: str = "jira-secret-token-123"):
        self.base, self.email, self.token = base, email, token
        self.issues: dict[str, dict] = {}  # key -> {"id", "labels", "comments"}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.urls: list[str] = []  # every request's full URL (the pages read)
        self._next_comment = 10000
        api = re.compile(re.escape(base) + r"/rest/api/2/issue/[^/?]+(/comment)?(\?.*)?$")
        for method in ("GET", "POST", "PUT"):
            rsps.add_callback(method, api, callback=self._serve)

    def add_issue(self, key: str, labels=()) -> dict:
        issue = {"id": str(10001 + len(self.issues)), "key": key, "labels": list(labels), "comments": []}
        self.issues[key] = issue
        return issue

    def _find(self, id_or_key: str) -> dict | None:
        return self.issues.get(id_or_key) or next((i for i in self.issues.values() if i["id"] == id_or_key), None)

    def _serve(self, request):
        url = urlparse(request.url)
        self.requests.append((request.method, url.path))
        if self.faults:
            return _fault_response(self.faults.pop(0))
        expected = "Basic " + base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            # Jira Cloud answers a bad API token with a bare 401.
            return 401, {"Content-Type": "text/plain;charset=UTF-8"}, \
                "Client must be authenticated to access this resource."
        parts = url.path.split("/")  # ['', 'rest', 'api', '2', 'issue', KEY, ('comment')]
        issue = self._find(parts[5])
        if issue is None:
            return 404, {"Content-Type": "application/json"}, json.dumps(
                {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}})
        if len(parts) == 7:
            return self._comments(request, issue, parse_qs(url.query))
        if request.method == "GET":
            return 200, {"Content-Type": "application/json"}, json.dumps(
                {"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
                 "id": issue["id"], "self": f"{self.base}/rest/api/2/issue/{issue['id']}", "key": issue["key"],
                 "fields": {"labels": list(issue["labels"])}})
        if request.method == "PUT":
            body = json.loads(request.body or "{}")
            for op in body.get("update", {}).get("labels", []):
                if "add" in op and op["add"] not in issue["labels"]:
                    issue["labels"].append(op["add"])
                if "remove" in op and op["remove"] in issue["labels"]:
                    issue["labels"].remove(op["remove"])
            if "labels" in body.get("fields", {}):
                issue["labels"] = list(body["fields"]["labels"])
            return 204, {}, ""
        return 405, {}, ""

    def _comments(self, request, issue, query):
        if request.method == "POST":
            body = json.loads(request.body or "{}")
            if not isinstance(body.get("body"), str) or not body["body"].strip():
                return 400, {"Content-Type": "application/json"}, json.dumps(
                    {"errorMessages": [], "errors": {"comment": "Comment body can not be empty!"}})
            self._next_comment += 1
            comment = {"self": f"{self.base}/rest/api/2/issue/{issue['id']}/comment/{self._next_comment}",
                       "id": str(self._next_comment),
                       "author": {"accountId": "5b10a2844c20165700ede21g", "displayName": "RCA Bot", "active": True},
                       "body": body["body"], "created": STAMP, "updated": STAMP, "jsdPublic": True}
            issue["comments"].append(comment)
            return 201, {"Content-Type": "application/json"}, json.dumps(comment)
        if request.method != "GET":
            return 405, {}, ""
        start = int(query.get("startAt", ["0"])[0])
        size = min(int(query.get("maxResults", ["5000"])[0]), 5000)
        ordered = list(issue["comments"])
        if query.get("orderBy", [""])[0].startswith("-"):
            ordered.reverse()
        page = ordered[start:start + size]
        return 200, {"Content-Type": "application/json"}, json.dumps(
            {"startAt": start, "maxResults": size, "total": len(ordered), "comments": page})

    def bodies(self, key: str) -> list[str]:
        return [c["body"] for c in self.issues[key]["comments"]]


class FakeGitHub:
    """GitHub: /repos/{owner}/{repo}/issues/{number}/comments (GET, paginated; POST) and .../labels (POST)."""

    DOCS = "https://docs.github.com/rest"

    def __init__(self, rsps: responses.RequestsMock, base: str = "https://api.github.com",
                 token: str = "ghp_secretsecretsecret0123456789"):
        self.base, self.token = base, token
        self.issues: dict[tuple[str, int], dict] = {}  # ("owner/repo", number) -> {"labels", "comments"}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.urls: list[str] = []  # every request's full URL (the pages read)
        self._next_comment = 1000
        site = urlparse(base)  # PyGithub names the port (https://api.github.com:443/...)
        api = re.compile(re.escape(f"{site.scheme}://{site.hostname}") + r"(:\d+)?" + re.escape(site.path)
                         + r"/repos/[^/]+/[^/]+/issues/\d+/(comments|labels)(\?.*)?$")
        for method in ("GET", "POST"):
            rsps.add_callback(method, api, callback=self._serve)

    def add_issue(self, repo: str, number: int, labels=(), comments=()) -> dict:
        issue = {"labels": list(labels), "comments": []}
        self.issues[(repo, number)] = issue
        for body in comments:
            self._comment(repo, number, issue, body)
        return issue

    def _error(self, status: int, message: str, headers=None):
        return status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, json.dumps(
            {"message": message, "documentation_url": self.DOCS, "status": str(status)})

    def _comment(self, repo, number, issue, body):
        self._next_comment += 1
        cid = self._next_comment
        comment = {"id": cid, "node_id": f"IC_kwDO{cid}", "url": f"{self.base}/repos/{repo}/issues/comments/{cid}",
                   "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{cid}", "body": body,
                   "user": {"login": "rca-bot", "id": 1, "type": "User"}, "created_at": "2026-11-30T12:00:00Z",
                   "updated_at": "2026-11-30T12:00:00Z", "issue_url": f"{self.base}/repos/{repo}/issues/{number}",
                   "author_association": "NONE"}
        issue["comments"].append(comment)
        return comment

    def _serve(self, request):
        url = urlparse(request.url)
        self.requests.append((request.method, url.path))
        self.urls.append(request.url)
        if self.faults:
            return _fault_response(self.faults.pop(0))
        if request.headers.get("Authorization") not in (f"token {self.token}", f"Bearer {self.token}"):
            return self._error(401, "Bad credentials")
        path = url.path[len(urlparse(self.base).path):]
        _, _, owner, repo, _, number, what = path.split("/")
        issue = self.issues.get((f"{owner}/{repo}", int(number)))
        if issue is None:
            return self._error(404, "Not Found")
        if what == "labels":
            body = json.loads(request.body or "[]")
            names = body.get("labels", []) if isinstance(body, dict) else body
            for name in names:
                name = name["name"] if isinstance(name, dict) else name
                if name not in issue["labels"]:
                    issue["labels"].append(name)
            return 200, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(
                [{"id": 200 + i, "node_id": f"LA_{i}", "url": f"{self.base}/repos/{owner}/{repo}/labels/{n}",
                  "name": n, "color": "ededed", "default": False, "description": None}
                 for i, n in enumerate(issue["labels"])])
        if request.method == "POST":
            body = json.loads(request.body or "{}")
            if not isinstance(body.get("body"), str):
                return self._error(422, "Invalid request.\n\n\"body\" wasn't supplied.")
            return 201, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(
                self._comment(f"{owner}/{repo}", int(number), issue, body["body"]))
        query = parse_qs(url.query)
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        comments = issue["comments"]
        last = max(1, -(-len(comments) // per_page))
        headers = {"Content-Type": "application/json; charset=utf-8"}
        here = f"{self.base}{url.path}"
        links = []
        if page < last:
            links += [f'<{here}?per_page={per_page}&page={page + 1}>; rel="next"',
                      f'<{here}?per_page={per_page}&page={last}>; rel="last"']
        if page > 1:
            links += [f'<{here}?per_page={per_page}&page=1>; rel="first"',
                      f'<{here}?per_page={per_page}&page={page - 1}>; rel="prev"']
        if links:
            headers["Link"] = ", ".join(links)
        return 200, headers, json.dumps(comments[(page - 1) * per_page:page * per_page])

    def bodies(self, repo: str, number: int) -> list[str]:
        return [c["body"] for c in self.issues[(repo, number)]["comments"]]
