"""The Python eventsourcing library's tutorial dog school, as the module `dogschool`,
so its stored topics are `dogschool:Dog`, `dogschool:Dog.Registered` and
`dogschool:Dog.TrickAdded`: the Python side of tributary's dog interop tests.

Import it with this folder on sys.path (read_dogs.py does), never run it as a script:
run as `__main__` its topics would name `__main__` instead of `dogschool`.
"""

from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Dog(Aggregate):
    @event("Registered")
    def __init__(self, name: str) -> None:
        self.name = name
        self.tricks: list[str] = []

    @event("TrickAdded")
    def add_trick(self, trick: str) -> None:
        self.tricks.append(trick)


class DogSchool(Application):
    def register_dog(self, name: str) -> UUID:
        dog = Dog(name)
        self.save(dog)
        return dog.id

    def add_trick(self, dog_id: UUID, trick: str) -> None:
        dog: Dog = self.repository.get(dog_id)
        dog.add_trick(trick)
        self.save(dog)

    def get_dog(self, dog_id: UUID) -> dict:
        dog: Dog = self.repository.get(dog_id)
        return {"name": dog.name, "tricks": list(dog.tricks)}
