"""Error answers are problem+json, and `problem_responses` documents them as such in the OpenAPI document."""

import httpx
from fastapi import FastAPI

from dunning_platform.errors import NotFound
from dunning_platform.problems import PROBLEM_JSON, Problem, install_problem_handlers, problem_responses


def app_with_route() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/things/{thing_id}", responses=problem_responses({404: "no such thing"}))
    async def thing(thing_id: int) -> dict:
        raise NotFound(f"no thing {thing_id}")

    return app


def test_every_documented_error_of_a_bearer_route_is_problem_json_only():
    responses = app_with_route().openapi()["paths"]["/things/{thing_id}"]["get"]["responses"]

    assert set(responses) == {"200", "401", "403", "404", "413", "422", "429"}
    for status in ("401", "403", "404", "413", "422", "429"):
        assert list(responses[status]["content"]) == [PROBLEM_JSON]
    assert responses["404"]["description"] == "no such thing"
    assert "Retry-After" in responses["429"]["headers"]


def test_a_route_without_a_bearer_token_documents_only_what_it_can_answer():
    assert set(problem_responses({401: "the signature is wrong"}, bearer=False)) == {401, 413, 422}


def test_a_route_with_a_json_body_also_documents_an_unreadable_body():
    assert 400 in problem_responses(body=True)
    assert 400 not in problem_responses()


async def test_the_answer_given_matches_the_documented_problem():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app_with_route()), base_url="http://t") as client:
        response = await client.get("/things/7")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert Problem.model_validate(response.json()).detail == "no thing 7"
