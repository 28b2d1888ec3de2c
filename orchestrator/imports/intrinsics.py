"""CloudFormation intrinsic functions, resolved where they name resources of the template.

AWS CloudFormation User Guide, "Intrinsic function reference" (Ref, Fn::GetAtt, Fn::Sub,
Fn::Join, Fn::If, Fn::Select, Fn::Split, Fn::FindInMap, Fn::Base64, condition functions) and
"Pseudo parameters reference" (AWS::AccountId, AWS::Region, AWS::Partition, AWS::URLSuffix,
AWS::StackName, AWS::NoValue). Each resource's own return values ("Return values" of each
resource type) become tokens first: the ARN of a resource (`!GetAtt User.Arn`, `!Ref Policy`) is
`⟦user:NAME⟧`, its name or id (`!Ref User`, `!Ref Key`) is `⟦user-id:NAME⟧`, the account is
`⟦account⟧`. A finished value is then either a scenario reference (`to_reference`: `user:NAME`,
`key:NAME`, `account`, `object:B/K`, ...) where policies take them (Principal, Resource, Arn
conditions), or plain text (`to_text`), where the account a template cannot know is `*`.
Anything that cannot be known from the template alone (Fn::ImportValue, Fn::GetAZs, an attribute
other than an ARN or id, a parameter without a default) raises `Unresolved`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from orchestrator import arns
from orchestrator.errors import InvalidInputError
from orchestrator.imports.parameters import typed
from orchestrator.model.policy import ORCHESTRATE
from orchestrator.resources.lockout import KEY_MANAGER_PARAMETER, MANAGEMENT_SID

ACCOUNT = "⟦account⟧"
#: The key manager parameter without a default: the identity that deploys, `orchestrate` in a scenario.
DEPLOYER = "⟦orchestrate⟧"
NO_VALUE = object()  # AWS::NoValue: the property is removed
_TOKEN = re.compile(r"⟦([a-z]+)(-id)?:([^⟧]+)⟧")
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
#: "Return values": kinds whose Ref is the ARN (a managed policy), not the name or id; and the id attribute.
REF_IS_ARN = frozenset({"policy"})
GETATT_ID = {"key": "KeyId"}
_REFERENCE_FORMS = (
    (re.compile(r"^arn:aws[a-z-]*:kms:[^:]*:⟦account⟧:key/⟦key-id:([^⟧]+)⟧$"), "key:{0}"),
    (re.compile(r"^arn:aws[a-z-]*:dynamodb:[^:]*:⟦account⟧:table/⟦table-id:([^⟧]+)⟧$"), "table:{0}"),
    (re.compile(r"^arn:aws[a-z-]*:iam::⟦account⟧:user/(?:.*/)?⟦user-id:([^⟧]+)⟧$"), "user:{0}"),
    (re.compile(r"^arn:aws[a-z-]*:iam::⟦account⟧:role/(?:.*/)?⟦role-id:([^⟧]+)⟧$"), "role:{0}"),
    (re.compile(r"^arn:aws[a-z-]*:iam::⟦account⟧:group/(?:.*/)?⟦group-id:([^⟧]+)⟧$"), "group:{0}"),
    # a role session's ARN (STS: the role's name, no path), as an export writes `session:ROLE/NAME`
    (re.compile(r"^arn:aws[a-z-]*:sts::⟦account⟧:assumed-role/⟦role-id:([^⟧]+)⟧/([\w+=,.@-]{2,64})$"), "session:{0}/{1}"),
    (re.compile(r"^arn:aws[a-z-]*:s3:::⟦bucket-id:([^⟧]+)⟧$"), "bucket:{0}"),
    (re.compile(r"^arn:aws[a-z-]*:s3:::⟦bucket-id:([^⟧]+)⟧/(.*)$"), "object:{0}/{1}"),
    (re.compile(r"^⟦bucket:([^⟧]+)⟧/(.*)$"), "object:{0}/{1}"),
    (re.compile(r"^(?:⟦account⟧|arn:aws[a-z-]*:iam::⟦account⟧:root)$"), "account"),
)
#: ARNs that name a template resource by its literal name (`Fn::Sub ...:table/orders`): a
#: reference only when the template declares that name.
_NAMED_FORMS = (
    (re.compile(r"^arn:aws[a-z-]*:dynamodb:[^:]*:⟦account⟧:table/([A-Za-z0-9_.-]+)$"), "table"),
    (re.compile(r"^arn:aws[a-z-]*:iam::⟦account⟧:user/(?:.*/)?([^/]+)$"), "user"),
    (re.compile(r"^arn:aws[a-z-]*:iam::⟦account⟧:role/(?:.*/)?([^/]+)$"), "role"),
    (re.compile(r"^arn:aws[a-z-]*:s3:::([a-z0-9.-]+)$"), "bucket"),
    (re.compile(r"^arn:aws[a-z-]*:s3:::([a-z0-9.-]+)/(.*)$"), "object"),
)


class Unresolved(InvalidInputError):
    """An intrinsic function whose value the template alone does not give."""


class ConditionCycle(InvalidInputError):
    """Conditions that refer to each other in a circle (CloudFormation refuses the template: a
    condition may name another only through the "Condition" function, never itself in the end)."""

    def __init__(self, chain: list[str]) -> None:
        self.chain = chain
        super().__init__(" -> ".join(chain))


@dataclass(frozen=True)
class Entity:
    """What a logical id declares: its kind (`user`, `key`, ...) and its scenario name."""

    kind: str
    name: str
    #: Its physical name property (TableName, ...) as resolved, which other properties may name it by.
    physical: str | None = field(default=None, compare=False)


@dataclass
class Resolver:
    body: dict[str, Any]
    entities: dict[str, Entity]
    region: str
    stack_name: str
    notes: list[str] = field(default_factory=list)
    #: Values given with `--parameter` (parameters.py), in place of the Parameters' defaults.
    parameters: dict[str, Any] = field(default_factory=dict)
    #: Each condition's value (or why it is unknown), once evaluated: a condition named by many
    #: others (`Fn::And: [{Condition: C1}, {Condition: C1}]`, chained) is evaluated once, not 2^depth times.
    evaluated: dict[str, bool | str] = field(default_factory=dict)
    #: Parameters an export says stand for a part of the organization or a VPC (imports/organization.py).
    meanings: dict[str, str] = field(default_factory=dict)
    known: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        # once per template, not per policy document: recomputing it for each of 5,000 documents
        # over 5,000 entities was the importer's quadratic step
        self.known = frozenset(f"{e.kind}:{e.name}" for e in self.entities.values())

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function replaced by its value (tokens for resources)."""
        if isinstance(value, list):
            return [v for v in (self.resolve(item) for item in value) if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (name, argument), = value.items()
            if name == "Ref":
                return self.ref(argument)
            if name == "Condition" and isinstance(argument, str):
                return self.condition(argument)
            if name.startswith("Fn::"):
                return self.function(name[4:], argument)
        resolved = {key: self.statements(item) if key == "Statement" and isinstance(item, list) else self.resolve(item)
                    for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def statements(self, statements: list[Any]) -> list[Any]:
        """A policy's statements one by one: one whose values the template does not give is left
        out with a note, not its whole resource; orchestrate's own key-management statement
        (`OrchestrateKeyManagement`, an export's guard naming the key's deployer) is left out too:
        the lockout guard adds it again at apply (resources/lockout.py)."""
        kept = []
        for statement in statements:
            if isinstance(statement, dict) and statement.get("Sid") == MANAGEMENT_SID:
                continue
            try:
                kept.append(self.resolve(statement))
            except Unresolved as why:
                sid = statement.get("Sid") if isinstance(statement, dict) else None
                self.notes.append(f"statement {sid or '(no Sid)'} left out of a policy: {why}")
        return kept

    def references(self) -> frozenset[str]:
        """The scenario references the template's resources stand for."""
        return self.known

    def ref(self, name: Any) -> Any:
        """"Ref": a parameter's value (`--parameter`) or default, a pseudo parameter, or a resource's name (or ARN)."""
        if not isinstance(name, str):
            raise Unresolved(f"Ref of {name!r}")
        pseudo = self._pseudo(name)
        if pseudo is not None:
            return pseudo
        entity = self.entities.get(name)
        if entity is not None:
            return f"⟦{entity.kind}:{entity.name}⟧" if entity.kind in REF_IS_ARN else f"⟦{entity.kind}-id:{entity.name}⟧"
        if name in self.parameters:
            return self.parameters[name]
        parameter = (self.body.get("Parameters") or {}).get(name)
        if isinstance(parameter, dict) and "Default" in parameter:
            return typed(parameter, parameter["Default"])
        if name == KEY_MANAGER_PARAMETER and isinstance(parameter, dict):
            return DEPLOYER
        if name in self.meanings and isinstance(parameter, dict):
            return self.meanings[name]
        raise Unresolved(f"Ref {name} (not a resource orchestrate imports, nor a parameter with a Default)")

    def _pseudo(self, name: str) -> Any:
        return {"AWS::AccountId": ACCOUNT, "AWS::Region": self.region, "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": self.stack_name,
                "AWS::NoValue": NO_VALUE}.get(name)

    def get_att(self, argument: Any) -> str:
        """"Fn::GetAtt": a resource's Arn (or a key's KeyId)."""
        if not (isinstance(argument, list) and len(argument) == 2 and all(isinstance(a, str) for a in argument)):
            raise Unresolved(f"Fn::GetAtt {argument!r}")
        logical, attribute = argument
        entity = self.entities.get(logical)
        if entity is not None and attribute == "Arn":
            return f"⟦{entity.kind}:{entity.name}⟧"
        if entity is not None and GETATT_ID.get(entity.kind) == attribute:
            return f"⟦{entity.kind}-id:{entity.name}⟧"
        raise Unresolved(f"Fn::GetAtt {logical}.{attribute}")

    def function(self, name: str, argument: Any) -> Any:
        handlers = {"GetAtt": self.get_att, "Sub": self.sub, "Join": self.join, "If": self.if_,
                    "Select": self.select, "Split": self.split, "FindInMap": self.find_in_map,
                    "Base64": self.resolve, "Equals": self.equals, "And": self.and_, "Or": self.or_, "Not": self.not_}
        handler = handlers.get(name)
        if handler is None:
            raise Unresolved(f"Fn::{name} (its value is not known from the template)")
        return handler(argument)

    def sub(self, argument: Any) -> str:
        """"Fn::Sub": `${Name}` is Ref, `${Name.Attr}` GetAtt, `${!Literal}` stays `${Literal}`."""
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1]) \
            if isinstance(argument, list) and len(argument) == 2 else (None, None)
        if not isinstance(text, str) or not isinstance(variables, dict):
            raise Unresolved(f"Fn::Sub {argument!r}")

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                found = self.resolve(variables[name])
            elif "." in name and not name.startswith("AWS::"):
                found = self.get_att(name.split(".", 1))
            else:
                found = self.ref(name)
            if not isinstance(found, (str, int, float)):
                raise Unresolved(f"Fn::Sub variable {name}")
            return str(found)
        return _SUB_VARIABLE.sub(value, text)

    def join(self, argument: Any) -> str:
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
            raise Unresolved(f"Fn::Join {argument!r}")
        parts = self.resolve(argument[1])
        if not isinstance(parts, list) or not all(isinstance(p, (str, int, float)) for p in parts):
            raise Unresolved("Fn::Join of values not known from the template")
        return argument[0].join(str(p) for p in parts)

    def select(self, argument: Any) -> Any:
        index, values = (self.resolve(argument[0]), self.resolve(argument[1])) if isinstance(argument, list) and len(argument) == 2 else (None, None)
        try:
            return values[int(index)]  # type: ignore[index]
        except (TypeError, ValueError, IndexError):
            raise Unresolved(f"Fn::Select {argument!r}") from None

    def split(self, argument: Any) -> list[str]:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise Unresolved(f"Fn::Split {argument!r}")
        text = self.resolve(argument[1])
        if not isinstance(text, str) or not isinstance(argument[0], str):
            raise Unresolved(f"Fn::Split {argument!r}")
        return text.split(argument[0])

    def find_in_map(self, argument: Any) -> Any:
        names = self.resolve(argument) if isinstance(argument, list) and len(argument) == 3 else None
        try:
            return self.body["Mappings"][names[0]][names[1]][names[2]]  # type: ignore[index]
        except (KeyError, TypeError):
            raise Unresolved(f"Fn::FindInMap {argument!r}") from None

    # conditions: "Condition functions" -------------------------------------------------
    def condition(self, name: str) -> bool:
        """"Condition": the named condition's value, evaluated once per template ("Condition
        functions": Fn::And, Fn::Or, Fn::Not, Fn::Equals, and Condition naming another one);
        Unresolved when the template does not give it, ConditionCycle for a circle."""
        if name not in self.evaluated:
            self.evaluate_in_order(name)
        found = self.evaluated[name]
        if isinstance(found, str):
            raise Unresolved(found)  # a new exception each time: one raised again keeps growing its traceback
        return found

    def evaluate_in_order(self, name: str) -> None:
        """``name`` and the conditions it names, those first, depth-first with a stack of our own:
        a chain of any length is evaluated without recursing from one condition into the next
        (each definition then finds the ones it names evaluated), and a circle is found on the way."""
        path: dict[str, Iterator[str]] = {name: iter(self.named_by(name))}  # insertion order: the path
        while path:
            current = next(reversed(path))
            named = next(path[current], None)
            if named is None:
                del path[current]
                self.store(current)
            elif named in path:
                names = list(path)
                raise ConditionCycle(names[names.index(named):] + [named])
            elif named not in self.evaluated:
                path[named] = iter(self.named_by(named))

    def store(self, name: str) -> None:
        try:
            self.evaluated[name] = self.evaluate(name)
        except Unresolved as why:
            self.evaluated[name] = str(why)

    def definition(self, name: str) -> Any:
        conditions = self.body.get("Conditions")
        return conditions.get(name) if isinstance(conditions, dict) else None

    def named_by(self, name: str) -> list[str]:
        """The conditions one condition's definition names (`Condition: X`, `Fn::If: [X, ...]`)."""
        found, pending = [], [self.definition(name)]
        while pending:
            value = pending.pop()
            if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Condition"), str):
                found.append(value["Condition"])
            elif isinstance(value, dict) and isinstance(value.get("Fn::If"), list) and value["Fn::If"] \
                    and isinstance(value["Fn::If"][0], str):
                found.append(value["Fn::If"][0])
            if isinstance(value, (dict, list)):
                pending.extend(reversed(list(value.values() if isinstance(value, dict) else value)))
        return found

    def evaluate(self, name: str) -> bool:
        """The definition of one condition in the Conditions section, resolved."""
        definition = self.definition(name)
        if definition is None:
            raise Unresolved(f"Condition {name} (not in the Conditions section)")
        return bool(self.resolve(definition))

    def if_(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3 and isinstance(argument[0], str)):
            raise Unresolved(f"Fn::If {argument!r}")
        try:
            holds = self.condition(argument[0])
        except Unresolved as why:
            self.notes.append(f"condition {argument[0]} is not known from the template ({why}): took its true branch")
            holds = True
        return self.resolve(argument[1] if holds else argument[2])

    def equals(self, argument: Any) -> bool:
        values = self.resolve(argument)
        if not (isinstance(values, list) and len(values) == 2):
            raise Unresolved(f"Fn::Equals {argument!r}")
        return bool(values[0] == values[1])

    def and_(self, argument: Any) -> bool:
        return all(bool(self.resolve(item)) for item in _conditions("Fn::And", argument))

    def or_(self, argument: Any) -> bool:
        return any(bool(self.resolve(item)) for item in _conditions("Fn::Or", argument))

    def not_(self, argument: Any) -> bool:
        return not bool(self.resolve(argument[0] if isinstance(argument, list) else argument))


def _conditions(function: str, argument: Any) -> list[Any]:
    """Fn::And and Fn::Or take a list of conditions ("Condition functions")."""
    if not isinstance(argument, list):
        raise Unresolved(f"{function} {argument!r}")
    return argument


def to_reference(value: Any, known: frozenset[str] = frozenset()) -> Any:
    """A resolved value where scenario references are taken (Principal, Resource, Arn conditions);
    ``known``: the references the template declares (`table:orders`, ...)."""
    if not isinstance(value, str):
        return value
    for pattern, kind in _NAMED_FORMS:
        match = pattern.match(value)
        if match is not None and f"{'bucket' if kind == 'object' else kind}:{match.group(1)}" in known:
            return f"{kind}:{'/'.join(match.groups())}"
    if value == DEPLOYER:
        return ORCHESTRATE
    whole = _TOKEN.fullmatch(value)
    if whole is not None and whole.group(2) is None:
        return f"{whole.group(1)}:{whole.group(3)}"
    for pattern, form in _REFERENCE_FORMS:
        match = pattern.match(value)
        if match is not None:
            return form.format(*match.groups())
    return to_text(value)


def to_text(value: Any) -> Any:
    """A resolved value as plain text: a resource's ARN as far as the template knows it (an account
    it cannot know is `*`), its name as declared."""
    if not isinstance(value, str):
        return value
    expanded = _TOKEN.sub(lambda m: _arn(m.group(1), m.group(3)) if m.group(2) is None else
                          ("*" if m.group(1) == "key" else m.group(3)), value)
    return expanded.replace(ACCOUNT, "*")


def _arn(kind: str, name: str) -> str:
    return {"key": arns.key_arn("*", "*", "*"), "table": arns.table_arn("*", "*", name),
            "user": arns.user_arn("*", name), "role": arns.role_arn("*", name),
            "group": arns.group_arn("*", name), "policy": arns.policy_arn("*", name),
            "bucket": arns.bucket_arn(name)}.get(kind, name)


def reference_arn(reference: str) -> str:
    """A scenario reference as ARN text (the account a template cannot know is `*`)."""
    kind, _, name = reference.partition(":")
    if kind == "object":
        return arns.bucket_arn(name)  # `BUCKET/KEY`: the object's ARN
    if kind == "session":
        return arns.sts_arn("*", f"assumed-role/{name}")
    return _arn(kind, name)


def entity_named(value: Any, kind: str, physical: dict[str, str]) -> str | None:
    """The scenario name of the ``kind`` entity a property value names: its token (Ref, GetAtt),
    its ARN or its declared physical name (``physical``: physical name -> scenario name)."""
    if not isinstance(value, str):
        return None
    whole = _TOKEN.fullmatch(value)
    if whole is not None:
        return whole.group(3) if whole.group(1) == kind else None
    reference = to_reference(value)
    if isinstance(reference, str) and reference.startswith(f"{kind}:"):
        return reference.partition(":")[2]
    return physical.get(value) or physical.get(value.rpartition("/")[2] if value.startswith("arn:") else "")
