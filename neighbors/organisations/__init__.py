"""The city's organisations: social organisations, volunteer teams, Party organisations and work
units, their members and coordinators, and the events they run in their community's name."""
