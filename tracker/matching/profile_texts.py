# ruff: noqa: E501
"""The English texts of the default strategy profile (tracker/data/default_profile.toml):
its name, programme-prior notes, Interreg notes and gate reasons, listed here so that the
catalogue extracts them and pages can show them in Swedish. The matching engine keeps the
English text; views look it up (``tracker.web.translate``). A test checks the list against
the file, so a new text in the profile cannot go untranslated."""

from __future__ import annotations

from tracker.i18n import Message, msg

# Long sentences stay on one line each: the test compares them with the file.
PROFILE_TEXTS: tuple[Message, ...] = (
    msg("Norrköping: focus areas of the internationalisation strategy"),
    msg("Erasmus+ funds education, training and youth"),
    msg("Nordplus funds Nordic cooperation in education"),
    msg("Swedish education agencies"),
    msg("ESF+ funds skills and adult learning"),
    msg("Erasmus+ sport actions are rarely about schools"),
    msg("Erasmus+ actions in education and training"),
    msg("LIFE funds environment, nature and the clean energy transition"),
    msg("the Swedish Energy Agency funds energy work"),
    msg("the Swedish EPA funds local climate and environment work"),
    msg("DUT funds urban transitions"),
    msg("the Climate-Neutral and Smart Cities Mission works with cities"),
    msg("the Mission on Adaptation to Climate Change works with regions and local authorities"),
    msg("LIFE Clean Energy Transition"),
    msg("Just Transition Fund"),
    msg(
        "Interreg funds territorial cooperation (only programmes covering Östergötland pass the gate)"
    ),
    msg("urban programmes: exchange between cities"),
    msg("the New European Bauhaus is about places and neighbourhoods"),
    msg("New European Bauhaus topics of Horizon Europe"),
    msg("regional development funds"),
    msg("the Cities Mission"),
    msg("EU4Health (mostly national health systems)"),
    msg("Swedish funders of welfare and social projects"),
    msg("ESF+ social inclusion strand"),
    msg("the Cancer Mission funds cancer research and care"),
    msg("Horizon Europe health research"),
    msg("AMIF funds integration of third-country nationals"),
    msg("ESF+ funds inclusion and employment"),
    msg("CERV funds equality and anti-discrimination"),
    msg("Allmänna arvsfonden funds civil society work for inclusion"),
    msg("the European Solidarity Corps funds volunteering"),
    msg("Creative Europe funds the cultural and creative sectors"),
    msg("Swedish arts funders"),
    msg("EIT Culture & Creativity"),
    msg("Horizon Europe Cluster 2: culture, creativity and inclusive society"),
    msg("CERV funds civic engagement, town twinning and remembrance"),
    msg("CERV Citizens' engagement and participation strand"),
    msg("Europe for Citizens"),
    msg("Horizon Europe: reshaping democracies"),
    msg("the Single Market Programme funds SMEs, clusters and tourism"),
    msg("Swedish business and innovation agencies"),
    msg("I3 funds interregional innovation investments"),
    msg("EIT knowledge and innovation communities"),
    msg("programmes for learning between cities"),
    msg("defence programme"),
    msg("nuclear research programme"),
    msg("coal and steel research"),
    msg("anti-fraud and euro protection programmes for customs and law enforcement"),
    msg("promotion of agricultural products by producer organisations"),
    msg("justice programme for judicial actors"),
    msg("internal security programme for law enforcement"),
    msg("CEF funds trans-European transport, energy and digital networks"),
    msg("Digital Europe mostly funds digital capacities and industry"),
    msg("Horizon Europe civil security research"),
    msg("Horizon Europe digital, industry and space research"),
    msg("Horizon Europe climate, energy and mobility research (mostly technology)"),
    msg("Horizon Europe food, bioeconomy and natural resources research"),
    msg("Joint Undertakings: industrial research partnerships"),
    msg("Chips Joint Undertaking"),
    msg("European Cybersecurity Competence Centre"),
    msg("European Innovation Council: deep-tech companies"),
    msg("Marie Skłodowska-Curie Actions: researchers' careers"),
    msg("European Research Council: frontier research by individual researchers"),
    msg("research infrastructures"),
    msg("Cancer Mission: cancer research and care"),
    msg("Soil Mission: agricultural and soil research"),
    msg("grants of EU agencies for specialised work"),
    msg("civil protection is not among the focus areas"),
    msg("European Parliament grants for media and political communication"),
    msg("maritime and fisheries fund"),
    msg("Innovation Fund: industrial decarbonisation projects"),
    msg("external action outside the EU"),
    msg("national contributions to renewables tenders"),
    msg(
        "pilot projects and preparatory actions: EU-level studies, monitoring and tests run by specialised organisations"
    ),
    msg("Östergötland is part of the Central Baltic programme area."),
    msg("In Sweden it covers Skåne, Blekinge, Kalmar and Kronoberg."),
    msg("In Sweden it covers Skåne, Halland and Västra Götaland."),
    msg("In Sweden it covers the west coast regions."),
    msg("In Sweden it covers the northern regions."),
    msg("It covers the northern and western border regions of Sweden."),
    msg(
        "Only individuals can apply (scholarships, internships, theses or fellowships), not organisations."
    ),
    msg("Only individuals can apply, not organisations."),
    msg("Only applicants selected in an earlier stage of the call can apply."),
    msg("Only national or competent authorities of the Member States can apply."),
    msg("The grant goes to a named beneficiary; there is no open call."),
    msg(
        "Operating grants under framework partnerships go to EU-level non-profit networks, not to municipalities."
    ),
    msg(
        "A co-funded partnership of research funders and programme owners; municipalities cannot apply."
    ),
    msg("Open only to projects in Cohesion Fund countries; Sweden is not one."),
    msg("Open only to territories with a Territorial Just Transition Plan; Östergötland has none."),
    msg("Open only to authorities in coal regions; Östergötland is not one."),
    msg("Open only to the EU's outermost regions."),
    msg("Open only to organisations in Widening countries; Sweden is not one."),
    msg(
        "External action or pre-accession aid: the call funds organisations and work in countries outside the EU."
    ),
)
