// The webinar platform's export, loaded as it is (the demo writes it): declared so that models can ref() it.
declare({ schema: settings.datasets.sources, name: "webinar_attendances" });
