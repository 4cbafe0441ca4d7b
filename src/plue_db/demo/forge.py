"""Steps 2 to 4: a reviewer and a repository, issues, and a landing request that lands."""

from __future__ import annotations

import functools
from typing import Any

import psycopg
from plue_queries import issues, landing, models, repositories, users
from plue_queries.enums import LandingStatus, ReviewState

from plue_db.demo.script import ISSUES, LABELS, IssueScript
from plue_db.demo.steps import Demo, DemoError, require, short
from plue_db.values import change_id, commit_id


def create_repository(demo: Demo, owner: models.User) -> tuple[models.User, models.Repository]:
    """A second user, Bob, to review, and a repository owned by ``owner``."""
    demo.section(2, "A reviewer and a repository")

    def create(c: psycopg.Connection[Any]) -> tuple[models.User, models.Repository]:
        reviewer = users.create_user(
            c,
            username=f"bob-{demo.suffix}",
            email=f"bob-{demo.suffix}@example.com",
            display_name="Bob",
            bio="",
            avatar_url=None,
            wallet_address=None,
            is_admin=False,
        )
        repo = repositories.create_repository(
            c,
            owner_id=owner.id,
            name=f"plue-{demo.suffix}",
            description="A forge on Jujutsu",
            is_public=True,
            default_branch="main",
            topics=["jujutsu", "forge"],
        )
        return reviewer, repo

    reviewer, repo = demo.unit(create)
    demo.say(f"  user {reviewer.username} (id {reviewer.id})")
    demo.say(f"  repository {owner.username}/{repo.name} (id {repo.id})")
    return reviewer, repo


def file_issues(demo: Demo, repo: models.Repository, people: dict[str, int]) -> list[models.Issue]:
    """The scripted labels and issues, each issue numbered by the database; then the
    issues the script marks closed are closed. ``people`` maps script authors to user ids."""
    demo.section(3, "Issues with atomic numbers, labels and comments")

    def create_labels(c: psycopg.Connection[Any]) -> dict[str, int]:
        made = (
            issues.create_label(c, repository_id=repo.id, name=name, color=color, description=text)
            for name, color, text in LABELS
        )
        return {label.name: label.id for label in made}

    label_ids = demo.unit(create_labels)
    demo.say(f"  labels: {', '.join(label_ids)}")
    made: list[models.Issue] = []
    for script in ISSUES:
        file_one = functools.partial(
            _file_issue, repo=repo, script=script, labels=label_ids, people=people
        )
        issue = demo.unit(file_one)
        made.append(issue)
        demo.say(f"  #{issue.issue_number} {issue.title} [{', '.join(script.labels)}]")
    for i, script in enumerate(ISSUES):
        if script.closed:
            made[i] = demo.unit(functools.partial(_close_issue, issue=made[i]))
            demo.say(f"  closed #{made[i].issue_number}")
    return made


def _close_issue(conn: psycopg.Connection[Any], *, issue: models.Issue) -> models.Issue:
    return require(issues.close_issue(conn, id=issue.id), f"close #{issue.issue_number}")


def _file_issue(
    conn: psycopg.Connection[Any],
    *,
    repo: models.Repository,
    script: IssueScript,
    labels: dict[str, int],
    people: dict[str, int],
) -> models.Issue:
    """An issue with its labels and comments: one unit, numbered by the database."""
    issue = issues.create_issue(
        conn,
        repository_id=repo.id,
        title=script.title,
        body=script.body,
        author_id=people["alice"],
        milestone_id=None,
        due_date=None,
    )
    for name in script.labels:
        issues.attach_label(conn, issue_id=issue.id, label_id=labels[name])
    for comment in script.comments:
        issues.create_comment(
            conn, issue_id=issue.id, author_id=people[comment.author], body=comment.body
        )
    return issue


def land_a_change(
    demo: Demo, repo: models.Repository, author: models.User, reviewer: models.User
) -> models.LandingQueue:
    """A change submitted for review, approved, queued, claimed from the queue and landed."""
    demo.section(4, "A landing request with a review")
    change = change_id()

    def submit(c: psycopg.Connection[Any]) -> models.LandingQueue:
        request = landing.submit_landing_request(
            c,
            repository_id=repo.id,
            change_id=change,
            title="Rebase conflicted changes before requeueing",
            description="Fixes #1",
            author_id=author.id,
            target_bookmark="main",
            stack_change_ids=[change],
        )
        return _transition(c, request, LandingStatus.IN_REVIEW)

    request = demo.unit(submit)
    demo.say(f"  request {request.id} for change {change[:12]} is {request.status}")

    def review(c: psycopg.Connection[Any]) -> models.LandingQueue:
        landing.upsert_landing_review(
            c,
            landing_id=request.id,
            reviewer_id=reviewer.id,
            state=ReviewState.APPROVED,
            body="Looks good; the retry now rebases first.",
        )
        return _transition(c, _transition(c, request, LandingStatus.APPROVED), LandingStatus.QUEUED)

    queued = demo.unit(review)
    demo.say(f"  {reviewer.username} approved; request is {queued.status}")

    def land(c: psycopg.Connection[Any]) -> models.LandingQueue:
        claimed = landing.claim_next_landable(c, repository_id=repo.id, max_count=1)
        if [r.id for r in claimed] != [request.id]:
            raise DemoError(f"claim landing: expected request {request.id}, got {claimed}")
        return require(
            landing.mark_landing_landed(
                c, landed_commit_id=commit_id(), landed_by=author.id, id=request.id
            ),
            f"land request {request.id}",
        )

    landed = demo.unit(land)
    demo.say(
        f"  claimed from the queue and {landed.status} as {short(landed.landed_commit_id or '')}"
    )
    return landed


def _transition(
    conn: psycopg.Connection[Any], request: models.LandingQueue, to: LandingStatus
) -> models.LandingQueue:
    return require(
        landing.transition_landing_request(conn, to_status=to, id=request.id),
        f"move landing request {request.id} from {request.status} to {to}",
    )
