"""Party and mass service stations (党群服务站) and their rooms, where most events happen."""
