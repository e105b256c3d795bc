"""Models: the contract's example bodies parse and dump back to equal JSON; unknowns are kept."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pydantic
import pytest

from fruxon_playground.api import models

EXAMPLES = json.loads((Path(__file__).parents[1] / "data" / "contract_examples.json").read_text())


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_contract_examples_round_trip(name: str) -> None:
    example = EXAMPLES[name]
    model = getattr(models, example["model"]).model_validate(example["body"])
    assert model.dump() == example["body"]


def test_unknown_fields_and_enum_values_are_kept() -> None:
    step = models.StepTrace.model_validate(
        {"id": "s1", "type": "QUANTUM_STEP", "status": "Pondering", "futureField": {"x": 1}}
    )
    assert step.type == "QUANTUM_STEP" and step.status == "Pondering"
    assert step.dump()["futureField"] == {"x": 1}
    assert not step.is_failure


def test_enum_normalization_covers_pascal_and_snake_case() -> None:
    assert models.normalize_enum("WaitingForHuman") == models.normalize_enum("WAITING_FOR_HUMAN")
    response = models.ExecuteResponse.model_validate({"status": "WaitingForHuman"})
    assert response.is_waiting_for_human


def test_money_accepts_numbers_and_decimal_strings() -> None:
    record = models.ExecutionRecord.model_validate({"id": "r", "totalCost": "0.0000966"})
    assert record.cost == Decimal("0.0000966")
    assert models.ExecutionRecord.model_validate({"id": "r"}).cost == 0


def test_requests_omit_nulls_and_unspecified_mode() -> None:
    body = models.ExecuteRequest(parameters={"q": "x"}, mode="UNSPECIFIED", session_id=None).to_wire()
    assert body == {"parameters": {"q": "x"}}
    with pytest.raises(pydantic.ValidationError):
        models.ExecuteRequest.model_validate({"unknownTopLevel": 1})


def test_summary_accepts_alternative_spellings() -> None:
    summary = models.EnvironmentSummary.model_validate(
        {"slug": "globex", "executionCount": 3, "totalCost": "1.5", "lastExecutionAt": 5}
    )
    assert summary.environment_slug == "globex" and summary.last_activity_at == 5 and summary.cost == Decimal("1.5")


def test_record_liveness() -> None:
    assert models.ExecutionRecord(id="a", status="WAITING_FOR_ASYNC").is_live
    assert models.ExecutionRecord(id="a", status="Completed").is_terminal
    assert models.ExecutionRecord(id="a", status="SOMETHING_NEW").is_live  # unknown: treat as live
