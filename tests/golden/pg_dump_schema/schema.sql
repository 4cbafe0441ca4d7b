--
-- PostgreSQL database dump
--

\restrict v28g48bXxfMSudYNtWVsgv1rhMZr020ATyGLaekghzmbRRoADUqSKK04zlrhufz

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

\unrestrict v28g48bXxfMSudYNtWVsgv1rhMZr020ATyGLaekghzmbRRoADUqSKK04zlrhufz
\connect dumpprobe
\restrict v28g48bXxfMSudYNtWVsgv1rhMZr020ATyGLaekghzmbRRoADUqSKK04zlrhufz

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: money_amount; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.money_amount AS (
	currency text,
	cents bigint
);


--
-- Name: slug; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.slug AS text
	CONSTRAINT slug_check CHECK ((VALUE ~ '^[a-z0-9-]+$'::text));


--
-- Name: ticket_state; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.ticket_state AS ENUM (
    'open',
    'closed'
);


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: tickets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tickets (
    id bigint NOT NULL,
    slug public.slug NOT NULL,
    state public.ticket_state DEFAULT 'open'::public.ticket_state NOT NULL,
    price public.money_amount,
    open_during tstzrange,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE tickets; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.tickets IS 'A support ticket.';


--
-- Name: ticket_label(public.tickets); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ticket_label(t public.tickets) RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT t.slug || ':' || t.state $$;


--
-- Name: tickets_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.tickets_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: tickets_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.tickets_id_seq OWNED BY public.tickets.id;


--
-- Name: tickets id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tickets ALTER COLUMN id SET DEFAULT nextval('public.tickets_id_seq'::regclass);


--
-- Name: tickets tickets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tickets
    ADD CONSTRAINT tickets_pkey PRIMARY KEY (id);


--
-- Name: tickets tickets_slug_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tickets
    ADD CONSTRAINT tickets_slug_key UNIQUE (slug);


--
-- PostgreSQL database dump complete
--

\unrestrict v28g48bXxfMSudYNtWVsgv1rhMZr020ATyGLaekghzmbRRoADUqSKK04zlrhufz

